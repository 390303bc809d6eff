// The spin-then-sleep signal between BatchParts' threads: no signal is lost, whether the waiter spins or sleeps.
using Denoiser.Training;
using Xunit;

namespace Denoiser.Tests.Training;

public class HandoffTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60); // a lost signal hangs; this turns it into a TimeoutException

    [Fact]
    public async Task A_signal_given_before_the_wait_lets_the_waiter_through()
    {
        using var handoff = new Handoff();
        handoff.Signal();
        await Task.Run(handoff.Wait).WaitAsync(Patience);
    }

    [Fact]
    public async Task A_waiter_past_its_spin_budget_sleeps_and_is_woken()
    {
        using var handoff = new Handoff();
        var waiter = Task.Run(handoff.Wait);
        Thread.Sleep(100); // well past the 5 ms of spinning: the waiter is asleep on its semaphore
        Assert.False(waiter.IsCompleted);
        handoff.Signal();
        await waiter.WaitAsync(Patience);
    }

    [Fact]
    public async Task Ping_pong_loses_no_signal_spinning_or_sleeping()
    {
        using var ping = new Handoff();
        using var pong = new Handoff();
        const int Rounds = 20_000;
        int answered = 0;
        var other = new Thread(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                ping.Wait();
                if (i % 2_000 == 0) Thread.Sleep(20); // now and then the other side sleeps instead of spinning
                answered++;
                pong.Signal();
            }
        }) { IsBackground = true };
        other.Start();
        var asker = Task.Run(() =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                if (i % 2_000 == 1_000) Thread.Sleep(20);
                ping.Signal();
                pong.Wait();
                Assert.Equal(i + 1, Volatile.Read(ref answered)); // each wait returns after its own answer, not early
            }
        });
        await asker.WaitAsync(Patience); // a lost signal stalls the ping-pong: TimeoutException
        Assert.True(other.Join(Patience));
    }
}
