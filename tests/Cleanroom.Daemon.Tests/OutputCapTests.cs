using Cleanroom.Daemon.State;
using Cleanroom.Daemon.Tests.Fakes;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Daemon.Tests;

/// <summary>One execution's output is capped: the log keeps exactly the cap and says where and why it was cut.</summary>
public sealed class OutputCapTests
{
    private const long Cap = 50_000;

    [Fact]
    public async Task Output_beyond_the_cap_is_cut_there_and_the_command_fails()
    {
        await using var daemon = new DaemonHarness(o => o with { MaxOutputBytes = Cap });
        var sandbox = await daemon.CreateAsync();

        var runner = await daemon.Manager.StartExecutionAsync(sandbox.Id, new ExecRequest { Argv = ["flood", (2 * Cap).ToString(System.Globalization.CultureInfo.InvariantCulture)] }, attachStdin: false, CancellationToken.None);
        var finished = await runner.Finished.WaitAsync(Waits.Bound);

        Assert.Equal(ExecutionStatus.Failed, finished.Status);
        Assert.StartsWith("output limit", finished.Error, StringComparison.Ordinal);
        Assert.Equal(finished.Error, daemon.Store.GetExecution(finished.Id)!.Error);
        using var log = daemon.Manager.OpenFinishedLog(finished);
        var output = await LogContents.ReadAsync(log);
        Assert.Equal(Cap, output.Stdout.Length);
        Assert.True(output.Stdout.All(b => b == ScriptedGuest.FloodByte), "the log holds bytes the command did not write");
        Assert.StartsWith($"\n[cleanroom] output cut at byte {Cap}: output limit", output.StderrText, StringComparison.Ordinal);
    }
}
