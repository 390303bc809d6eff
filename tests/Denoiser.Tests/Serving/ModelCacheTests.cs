// serve's cache of named models: bounded, least recently used out first, never disposing a model a request still runs.
using Denoiser.Data;
using Denoiser.Inference;
using Denoiser.Models;
using Denoiser.Serving;
using Xunit;

namespace Denoiser.Tests.Serving;

public class ModelCacheTests
{
    sealed class Counted(string name, List<string> disposed) : IImageModel
    {
        public ModelInfo Info => ResUNet.Info;
        public TrainingDomain Domain => TrainingDomain.Of(Info, (Denoiser.Training.TrainSettings?)null);
        public Picture Run(Picture p) => p;
        public void Dispose() => disposed.Add(name);
    }

    [Fact]
    public void It_holds_at_most_its_capacity_loads_each_once_and_evicts_the_least_recently_used()
    {
        var disposed = new List<string>();
        var loads = new List<string>();
        using var cache = new ModelCache(2);
        IImageModel Load(string name) { loads.Add(name); return new Counted(name, disposed); }
        foreach (string name in new[] { "a", "b", "a", "c", "a", "b" })
            using (cache.Get(name, () => Load(name))) Assert.True(cache.Loaded <= 2);
        Assert.Equal(new[] { "a", "b", "c", "b" }, loads); // a stayed (used last before c came); b was evicted by c and loaded again
        Assert.Equal(new[] { "b", "c" }, disposed);
    }

    [Fact]
    public void A_model_in_use_is_disposed_only_when_its_lease_ends()
    {
        var disposed = new List<string>();
        using var cache = new ModelCache(1);
        var running = cache.Get("a", () => new Counted("a", disposed));
        using (cache.Get("b", () => new Counted("b", disposed))) { }
        Assert.Empty(disposed); // a was evicted while a request still ran it
        running.Dispose();
        Assert.Equal(new[] { "a" }, disposed);
    }
}
