using Cleanroom.Client;

namespace Cleanroom.Cli.Tests;

public sealed class InterruptSignalTests
{
    [Fact]
    public void First_interrupt_cancels_the_token_and_is_handled()
    {
        using var interrupts = new InterruptSignal();
        Assert.True(interrupts.Raise(2));
        Assert.True(interrupts.Token.IsCancellationRequested);
        Assert.Equal((1, 2), (interrupts.Count, interrupts.LastSignal));
    }

    [Fact]
    public void A_repeated_interrupt_nobody_handles_lets_the_process_die()
    {
        using var interrupts = new InterruptSignal();
        interrupts.Raise(2);
        Assert.False(interrupts.Raise(15));
    }

    [Fact]
    public void Subscribers_see_every_interrupt_until_they_unsubscribe()
    {
        using var interrupts = new InterruptSignal();
        var seen = new List<int>();
        using (interrupts.Subscribe(seen.Add))
        {
            Assert.True(interrupts.Raise(2));
            Assert.True(interrupts.Raise(15));
        }

        Assert.False(interrupts.Raise(2));
        Assert.Equal([2, 15], seen);
    }
}
