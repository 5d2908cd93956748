using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Messages;
using Cleanroom.GuestAgent.Exec;
using Cleanroom.GuestAgent.Init;
using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>A cold boot's warm-up: the agent as its own host, over a socket pair, with its real exec path.</summary>
public class LoopbackExecWarmUpTests
{
    [Fact]
    public async Task Runs_the_agents_own_stat_tool_to_its_exit_and_ends_both_sides()
    {
        var handler = new RecordingHandler(new ExecHandler(new ExecOptions { SelfExecutable = AgentHarness.AgentExecutable }, GuestFileSystem.Instance, ChildReaper.Shared));

        // Returning at all means the server saw the host end close and let go of its stream.
        var exit = await LoopbackExecWarmUp.RunOnceAsync(handler, TimeSpan.FromSeconds(30));

        Assert.Equal(new ExitMessage(0, 0, ""), exit);
        var request = Assert.Single(handler.Requests);
        Assert.True(request.Tool);
        Assert.Equal(["stat", "/"], request.Argv);
    }

    [Fact]
    public async Task Gives_up_at_its_bound_when_the_command_does_not_end()
    {
        var handler = new NeverEndingHandler();
        var steps = new List<string>();

        // Long enough for the hello and the start on a busy host; the command then never ends.
        var warmUp = LoopbackExecWarmUp.RunOnceAsync(handler, TimeSpan.FromSeconds(2), step => { lock (steps) { steps.Add(step); } });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => warmUp.WaitAsync(TimeSpan.FromSeconds(30)));
        // What a stuck boot's watchdog reports: how far it got.
        lock (steps)
        {
            Assert.Equal(["saying hello", "starting the tool", "reading the tool's output"], steps);
        }

        // The connection's end stops the command (the session's token), so nothing is left running.
        await handler.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private sealed class RecordingHandler(IExecHandler inner) : IExecHandler
    {
        public List<ExecRequest> Requests { get; } = [];

        public Task<ExitMessage> RunAsync(ExecRequest request, ExecSession session, CancellationToken cancellationToken)
        {
            lock (Requests)
            {
                Requests.Add(request);
            }

            return inner.RunAsync(request, session, cancellationToken);
        }
    }

    private sealed class NeverEndingHandler : IExecHandler
    {
        public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<ExitMessage> RunAsync(ExecRequest request, ExecSession session, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                Stopped.TrySetResult();
            }

            return new ExitMessage(0, 0, "");
        }
    }
}
