// The models a server keeps loaded: a few, the most recently used, so memory stays flat however many runs clients name.
using Denoiser.Inference;

namespace Denoiser.Serving;

/// <summary>
/// Up to <paramref name="capacity"/> loaded models by name, least recently used evicted first. A request leases the
/// model it runs; an evicted model is disposed when its last lease ends, never under a running request.
/// </summary>
public sealed class ModelCache(int capacity) : IDisposable
{
    internal sealed class Entry(string name, IImageModel model)
    {
        public string Name { get; } = name;
        public IImageModel Model { get; } = model;
        public int Leases;
        public bool Evicted;
    }

    readonly LinkedList<Entry> recent = new(); // most recent first
    readonly object gate = new();

    /// <summary>Models loaded now (for tests and the log).</summary>
    public int Loaded { get { lock (gate) return recent.Count; } }

    /// <summary>The model <paramref name="name"/>, loaded by <paramref name="load"/> when it is not held; dispose the lease when done with it.</summary>
    public Lease Get(string name, Func<IImageModel> load)
    {
        lock (gate) // loading under the lock: two requests for one new model load it once
        {
            var node = recent.First;
            while (node != null && node.Value.Name != name) node = node.Next;
            Entry entry;
            if (node != null)
            {
                recent.Remove(node);
                entry = node.Value;
            }
            else entry = new Entry(name, load());
            recent.AddFirst(entry);
            entry.Leases++;
            while (recent.Count > capacity)
            {
                var oldest = recent.Last!.Value;
                recent.RemoveLast();
                oldest.Evicted = true;
                if (oldest.Leases == 0) oldest.Model.Dispose();
            }
            return new Lease(this, entry);
        }
    }

    void Release(Entry entry)
    {
        lock (gate)
            if (--entry.Leases == 0 && entry.Evicted) entry.Model.Dispose();
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var entry in recent) entry.Model.Dispose();
            recent.Clear();
        }
    }

    public sealed class Lease : IDisposable
    {
        readonly ModelCache cache;
        readonly Entry entry;
        bool released;
        internal Lease(ModelCache cache, Entry entry) => (this.cache, this.entry) = (cache, entry);
        public IImageModel Model => entry.Model;
        public void Dispose()
        {
            if (released) return;
            released = true;
            cache.Release(entry);
        }
    }
}
