using System.Globalization;
using Cleanroom.Api.V1;
using Cleanroom.Client;
using Cleanroom.Daemon.Sandboxes;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Messages;
using Xunit.Abstractions;

namespace Cleanroom.Daemon.Tests;

/// <summary>
/// Many clients following one execution at once over gRPC and Connect, some of them going away mid-stream. Measures
/// the heap, so it runs alone (<see cref="SerialGroup"/>).
/// </summary>
[Collection(SerialGroup.Name)]
public sealed class ManyFollowersTests(ITestOutputHelper output)
{
    private const int Clients = 200;

    /// <summary>What the command writes before it waits: every client has it while the execution still runs.</summary>
    private const long Head = 16 * 1024;

    /// <summary>What it writes once released; 200 clients buffering this each would hold 800 MiB.</summary>
    private const long Rest = 4L << 20;

    private const string Method = "/cleanroom.v1.ExecutionService/StreamExecution";

    [Fact]
    public async Task Two_hundred_followers_get_everything_in_order_from_the_log_and_leavers_leave_nothing_behind()
    {
        await using var host = await ControlApiHost.StartAsync(o => o with { DetachedGrace = TimeSpan.FromSeconds(1) });
        var manager = host.Harness.Manager;

        // A sandbox made for one exec: a hold a client's stream failed to release would keep it forever (checked at the end).
        var sandbox = await host.Harness.CreateAsync(new SandboxRequest(null, AutoRemove: true));
        var testHold = manager.Hold(sandbox.Id);
        var argv = new[] { "pattern", Head.ToString(CultureInfo.InvariantCulture), (Head + Rest).ToString(CultureInfo.InvariantCulture) };
        var runner = await manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = [.. argv] }, attachStdin: true, CancellationToken.None);
        var log = runner.Log.Path;
        var request = new StreamExecutionRequest { SandboxId = sandbox.Id, ExecutionId = runner.Record.Id, Follow = true };
        using var grpc = DaemonConnection.Open(DaemonEndpoint.ForSocket(host.SocketPath));

        // Clients in pairs (one gRPC, one Connect): a quarter of the pairs leave while waiting for output, a quarter
        // while the daemon is blocked writing to them, half stay to the end.
        var followers = Enumerable.Range(0, Clients)
            .Select(i => i % 2 == 0 ? (ExecutionFollower)new ExecutionFollower.OverGrpc(grpc, request) : new ExecutionFollower.OverConnect(host.Http1, request))
            .ToList();
        var leaveWaiting = followers.Where((_, i) => i / 2 % 4 == 0).ToList();
        var leaveBlocked = followers.Where((_, i) => i / 2 % 4 == 1).ToList();
        var stay = followers.Where((_, i) => i / 2 % 4 >= 2).ToList();
        try
        {
            await Task.WhenAll(followers.Select(f => f.ReadOutputAsync(Head))).WaitAsync(Waits.Bound);

            // Each follower reads the log through a file handle of its own (and the runner writes it): what a
            // follower holds in the daemon, the handle shows.
            Assert.Equal(Clients + 1, OpenHandlesOf(log));

            leaveWaiting.ForEach(f => f.Disconnect());
            await AssertCallsEndedAsync(host, leaveWaiting.Count, cancelled: true);
            Assert.Equal(Clients - leaveWaiting.Count + 1, OpenHandlesOf(log));

            // The rest of the output goes to the log while no client reads: what it costs the daemon's heap is flow
            // control's worth per client, not the output per client.
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            await runner.CloseStdinAsync(CancellationToken.None);
            var finished = await runner.Finished.WaitAsync(Waits.Bound);
            var growth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
            var stalled = Clients - leaveWaiting.Count;
            output.WriteLine($"heap growth with {stalled} stalled followers of {Rest} more bytes: {growth} bytes ({growth / stalled} per follower)");
            Assert.True(growth < stalled * Rest / 4, $"the heap grew by {growth} bytes with {stalled} followers stalled on {Rest} bytes of output");
            Assert.Equal(0, finished.ExitCode);

            // A client that reads nothing may still have taken all of it: HTTP/2 lets a client's stream window grow to
            // megabytes, and the socket buffers hold some too. So a leaver's call may have completed before it left;
            // either way it must end and give back its handle.
            leaveBlocked.ForEach(f => f.Disconnect());
            await AssertCallsEndedAsync(host, leaveBlocked.Count, cancelled: null);
            Assert.Equal(stay.Count, OpenHandlesOf(log)); // the runner closed its writer when the command finished

            var exits = await Task.WhenAll(stay.Select(f => f.ReadToExitAsync())).WaitAsync(Waits.Bound * 3);
            Assert.All(stay, f => Assert.Equal(Head + Rest, f.Received));
            Assert.All(exits, e => Assert.Equal((0, ExecutionStatus.Succeeded), (e.ExitCode, e.Status)));
            await AssertCallsEndedAsync(host, stay.Count, cancelled: false);
            Assert.Equal(0, OpenHandlesOf(log));

            testHold.Dispose();
            await host.Harness.WaitReleasedAsync(sandbox.Id);
        }
        finally
        {
            followers.ForEach(f => f.Dispose());
        }
    }

    /// <summary>Waits for <paramref name="count"/> calls to end; <paramref name="cancelled"/> null accepts either way.</summary>
    private static async Task AssertCallsEndedAsync(ControlApiHost host, int count, bool? cancelled)
    {
        for (var i = 0; i < count; i++)
        {
            var ended = await host.Calls.NextEndedAsync();
            Assert.Equal((Method, cancelled ?? ended.Cancelled), (ended.Method, ended.Cancelled));
        }
    }

    /// <summary>This process's open file descriptors on <paramref name="path"/>.</summary>
    private static int OpenHandlesOf(string path) =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd").Count(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget == path;
            }
            catch (IOException)
            {
                return false; // closed since the listing
            }
        });
}
