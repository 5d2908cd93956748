using Cleanroom.Gateway.Cache;

namespace Cleanroom.Gateway.Tests;

public sealed class SingleFlightTests
{
    [Fact]
    public async Task A_hundred_concurrent_callers_share_one_run()
    {
        using var flights = new SingleFlight<string, int>(TimeSpan.FromMinutes(1));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;

        var joined = 0;
        var callers = Enumerable.Range(0, 100)
            .Select(_ => Task.Run(async () =>
            {
                var pending = flights.RunAsync("k", async _ =>
                {
                    Interlocked.Increment(ref runs);
                    await release.Task;
                    return 42;
                }, CancellationToken.None);
                Interlocked.Increment(ref joined);
                return await pending;
            }))
            .ToList();
        await WaitUntil(() => Volatile.Read(ref joined) == 100);
        Assert.Equal(1, flights.InFlight);
        release.SetResult();

        Assert.All(await Task.WhenAll(callers), r => Assert.Equal(42, r));
        Assert.Equal(1, runs);
        await WaitUntil(() => flights.InFlight == 0);
    }

    [Fact]
    public async Task A_cancelled_waiter_does_not_cancel_the_run_for_the_others()
    {
        using var flights = new SingleFlight<string, int>(TimeSpan.FromMinutes(1));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workToken = new TaskCompletionSource<CancellationToken>();
        using var impatient = new CancellationTokenSource();

        var first = flights.RunAsync("k", async token =>
        {
            workToken.SetResult(token);
            await release.Task.WaitAsync(token);
            return 7;
        }, impatient.Token);
        var second = flights.RunAsync("k", _ => throw new InvalidOperationException("a second run must not start"), CancellationToken.None);
        var token = await workToken.Task;

        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.False(token.IsCancellationRequested);

        release.SetResult();
        Assert.Equal(7, await second);
    }

    [Fact]
    public async Task A_failure_reaches_every_waiter_and_is_not_remembered()
    {
        using var flights = new SingleFlight<string, int>(TimeSpan.FromMinutes(1));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;

        Task<int> Failing() => flights.RunAsync("k", async _ =>
        {
            Interlocked.Increment(ref runs);
            await release.Task;
            throw new HttpRequestException("upstream said 502");
        }, CancellationToken.None);

        var waiters = Enumerable.Range(0, 10).Select(_ => Failing()).ToList();
        release.SetResult();
        foreach (var waiter in waiters)
        {
            var error = await Assert.ThrowsAsync<HttpRequestException>(() => waiter);
            Assert.Equal("upstream said 502", error.Message);
        }

        Assert.Equal(1, runs);
        await WaitUntil(() => flights.InFlight == 0);

        Assert.Equal(5, await flights.RunAsync("k", _ => Task.FromResult(5), CancellationToken.None));
    }

    [Fact]
    public async Task A_run_past_the_timeout_is_cancelled()
    {
        using var flights = new SingleFlight<string, int>(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => flights.RunAsync("k", async token =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return 0;
        }, CancellationToken.None));
    }

    [Fact]
    public async Task A_run_that_ignores_its_token_is_abandoned_at_the_timeout_and_the_next_call_starts_afresh()
    {
        using var flights = new SingleFlight<string, int>(TimeSpan.FromMilliseconds(100));
        var never = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The bound on the wait only keeps a regression from hanging the test run.
        var stuck = flights.RunAsync("k", _ => never.Task, CancellationToken.None);
        await Assert.ThrowsAsync<TimeoutException>(() => stuck.WaitAsync(TimeSpan.FromSeconds(10)));
        await WaitUntil(() => flights.InFlight == 0);

        Assert.Equal(7, await flights.RunAsync("k", _ => Task.FromResult(7), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        never.SetResult(0);
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for a condition");
            await Task.Delay(5);
        }
    }
}
