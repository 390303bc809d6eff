// Alternating timed rounds of two contenders, so that a shared, noisy machine slows both alike.
using System.Diagnostics;

namespace Denoiser.Benchmarks;

public sealed record Rate(double Median, double Min, double Max, int Rounds);

public static class Rounds
{
    /// <summary>
    /// Runs <paramref name="a"/> and <paramref name="b"/> (each returns the images it processed) in turns of about
    /// <paramref name="roundSeconds"/> until each has had <paramref name="seconds"/>, after one warm-up turn each;
    /// returns each one's median images/s over its turns.
    /// </summary>
    /// <remarks>With <paramref name="seconds"/> 0: one single-step turn each and no warm-up (a smoke run).</remarks>
    public static (Rate A, Rate B) Compare(Func<long> a, Func<long> b, double seconds, double roundSeconds = 0.5)
    {
        if (seconds > 0) { a(); b(); }
        roundSeconds = Math.Min(roundSeconds, seconds);
        var ra = new List<double>();
        var rb = new List<double>();
        double spent = 0;
        do
        {
            ra.Add(Turn(a, roundSeconds));
            rb.Add(Turn(b, roundSeconds));
            spent += roundSeconds;
        } while (spent < seconds);
        return (Summarise(ra), Summarise(rb));
    }

    /// <summary>One contender alone, in the same turns; its median images/s.</summary>
    public static Rate Alone(Func<long> step, double seconds, double roundSeconds = 0.5)
    {
        if (seconds > 0) step();
        roundSeconds = Math.Min(roundSeconds, seconds);
        var rates = new List<double>();
        double spent = 0;
        do { rates.Add(Turn(step, roundSeconds)); spent += roundSeconds; } while (spent < seconds);
        return Summarise(rates);
    }

    static double Turn(Func<long> step, double seconds)
    {
        var clock = Stopwatch.StartNew();
        long images = 0;
        do images += step(); while (clock.Elapsed.TotalSeconds < seconds);
        return images / clock.Elapsed.TotalSeconds;
    }

    static Rate Summarise(List<double> rates)
    {
        rates.Sort();
        return new Rate(rates[rates.Count / 2], rates[0], rates[^1], rates.Count);
    }
}
