using System.Diagnostics;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Channel;
using Cleanroom.GuestAgent.Native;

namespace Cleanroom.GuestAgent.Init;

/// <summary>
/// A cold boot's first warm-up: the agent is its own host once, over a socket pair, and runs its own <c>stat /</c>
/// tool through the whole path a host's command takes (the frames, the session, the planner, the pipes, the spawn,
/// the output pump, the exit). Each of those steps cost several times its later cost the first time it ran in a
/// booted guest (page faults in the agent's code, and under TCG translating it): with only
/// <see cref="ExecWarmUp"/>'s spawn, a cold sandbox's first command took about twice a later one, the extra spread
/// over every step (agent-side timings, not kept). The tool needs nothing from the root disk, so this starts before
/// the kernel modules load and runs on a second vCPU beside them (150 to 200 ms under TCG; nothing waits for it, and
/// it was done before the agent served in every boot measured); with one vCPU it would lengthen the boot instead, so
/// it is skipped. Bounded; a failure is logged and only leaves the first command as slow as it was.
/// </summary>
internal static class LoopbackExecWarmUp
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static volatile string _state = "not started";

    /// <summary>How far the background warm-up got, for the <see cref="BootWatchdog"/> of a boot that is stuck.</summary>
    public static string State => _state;

    public static void StartInBackground(IExecHandler handler)
    {
        if (Environment.ProcessorCount < 2)
        {
            _state = "skipped (one vCPU)";
            return;
        }

        _state = "starting";
        _ = Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var exit = await RunOnceAsync(handler, Bound, step => _state = $"{step} ({clock.ElapsedMilliseconds} ms in)");
                _state = $"done in {clock.ElapsedMilliseconds} ms";
                AgentLog.Info($"warm-up: ran its own stat tool as its own host in {clock.ElapsedMilliseconds} ms ({Describe(exit)})");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _state = $"failed after {clock.ElapsedMilliseconds} ms";
                AgentLog.Warn($"warm-up through the agent's own exec path failed after {clock.ElapsedMilliseconds} ms: {ex.Message}");
            }
        });
    }

    /// <summary>
    /// Runs the tool through <paramref name="handler"/> behind a real server and client, reads its output, and returns
    /// its exit once both ends have closed. Throws when that takes longer than <paramref name="bound"/>.
    /// <paramref name="stepStarted"/> hears each step as it starts.
    /// </summary>
    internal static async Task<ExitMessage> RunOnceAsync(IExecHandler handler, TimeSpan bound, Action<string>? stepStarted = null)
    {
        stepStarted ??= _ => { };
        var (guestFd, hostFd) = SocketPair();
        var guestEnd = new VirtioPortStream(guestFd);
        var serving = Task.FromResult(SessionEnd.PeerClosed);
        using var deadline = new CancellationTokenSource(bound);
        try
        {
            stepStarted("saying hello");
            serving = new AgentServer(guestEnd, handler, WireLimits.Default, AgentLoop.Software).RunAsync(deadline.Token);
            ExitMessage exit;
            // The deadline bounds the hello too; a timeout of the client's own would race it with another error.
            await using (var host = await AgentClient.ConnectAsync(new VirtioPortStream(hostFd), WireLimits.Default, Timeout.InfiniteTimeSpan, deadline.Token))
            {
                stepStarted("starting the tool");
                var process = await host.StartAsync(new ExecRequest { Argv = ["stat", "/"], Tool = true }, deadline.Token);
                stepStarted("reading the tool's output");
                while (await process.ReadOutputAsync(deadline.Token) is not null)
                {
                    // Read so that the output path runs too; what the tool says about / is not needed.
                }

                stepStarted("waiting for the tool's exit");
                exit = await process.Exited.WaitAsync(deadline.Token);
                stepStarted("closing its host end");
            }

            // The host end's close is the guest end's end of file: the server lets go of its stream and returns.
            FileDescriptors.CloseQuietly(Interlocked.Exchange(ref hostFd, -1));
            stepStarted("waiting for its server to end");
            await serving.WaitAsync(deadline.Token);
            return exit;
        }
        finally
        {
            // The client is disposed by now (it stopped reading), so its end can go at once.
            FileDescriptors.CloseQuietly(hostFd);
            ReleaseOnceServed(serving, guestEnd, guestFd);
        }
    }

    /// <summary>
    /// Closes the server's end only once the server has returned: by then it has stopped every command it started and
    /// nothing writes to the descriptor. Closed earlier (a warm-up that ran out of time), its number could go to the
    /// next file the agent opens while a straggler still writes frames; until then shutdown fails every read and write.
    /// </summary>
    private static void ReleaseOnceServed(Task serving, VirtioPortStream end, int fd)
    {
        if (!serving.IsCompleted)
        {
            _ = LibC.Shutdown(fd, LibC.SHUT_RDWR);
        }

        _ = serving.ContinueWith(
            done =>
            {
                _ = done.Exception; // A server that ended by the deadline has nothing more to say.
                end.Dispose();
                FileDescriptors.CloseQuietly(fd);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static string Describe(ExitMessage exit) =>
        exit.Error.Length > 0 ? $"exit {exit.ShellExitCode}: {exit.Error}" : $"exit {exit.ShellExitCode}";

    private static unsafe (int Guest, int Host) SocketPair()
    {
        var fds = stackalloc int[2];
        if (LibC.SocketPair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0, fds) != 0)
        {
            throw new IOException("socketpair failed: " + Errno.DescribeLast());
        }

        return (fds[0], fds[1]);
    }
}
