using Cleanroom.Daemon.Executions;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// The lengths a client that reads an output log itself is told (RunExecution with read_output_log): whole records
/// only, never going back, the last one covering all the output, and the reason when the daemon stops following.
/// </summary>
public sealed class OutputLogLengthTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-loglen-").FullName;

    [Fact]
    public async Task Each_length_ends_on_a_whole_record_and_the_last_covers_everything_once_complete()
    {
        using var log = OutputLog.Create(Path.Combine(_dir, "e.log"));
        var told = new List<long>();
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var follower = Task.Run(async () =>
        {
            await foreach (var length in log.FollowLengthAsync(CancellationToken.None))
            {
                told.Add(length);
                firstSeen.TrySetResult();
            }
        });

        await firstSeen.Task.WaitAsync(Waits.Bound);
        await log.AppendAsync(OutputStreamKind.Stdout, "one\n"u8.ToArray(), CancellationToken.None);
        await log.AppendAsync(OutputStreamKind.Stderr, new byte[300_000], CancellationToken.None);
        await log.AppendAsync(OutputStreamKind.Stdout, "three\n"u8.ToArray(), CancellationToken.None);
        log.Complete();
        await follower.WaitAsync(Waits.Bound);

        long[] wholeRecordEnds = [0, 5 + 4, 5 + 4 + 5 + 300_000, 5 + 4 + 5 + 300_000 + 5 + 6];
        Assert.All(told, length => Assert.Contains(length, wholeRecordEnds));
        Assert.Equal(told.Order(), told);
        Assert.Equal(told.Distinct(), told);
        Assert.Equal(wholeRecordEnds[^1], told[^1]);
        Assert.Equal(wholeRecordEnds[^1], new FileInfo(log.Path).Length);
    }

    [Fact]
    public async Task A_log_the_daemon_abandons_gives_what_it_has_then_the_reason()
    {
        using var log = OutputLog.Create(Path.Combine(_dir, "e.log"));
        await log.AppendAsync(OutputStreamKind.Stdout, "kept\n"u8.ToArray(), CancellationToken.None);
        log.Abandon(new InvalidOperationException("the daemon is stopping"));

        var told = new List<long>();
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var length in log.FollowLengthAsync(CancellationToken.None))
            {
                told.Add(length);
            }
        });

        Assert.Equal([10L], told);
        Assert.Equal("the daemon is stopping", thrown.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
