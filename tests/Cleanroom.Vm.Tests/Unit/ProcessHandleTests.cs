using System.Diagnostics;
using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Tests.Unit;

/// <summary>The pidfd a restarted daemon watches and stops the VMs it took over with.</summary>
public sealed class ProcessHandleTests
{
    [Fact]
    public void A_handle_reports_the_exit_and_signals_only_while_the_process_lives()
    {
        using var sleeper = Process.Start("sleep", "600");
        using var handle = ProcessHandle.TryOpen(sleeper.Id);
        Assert.NotNull(handle);
        Assert.False(handle.WaitForExit(TimeSpan.FromMilliseconds(50)));

        Assert.True(handle.TrySignal(Posix.SigTerm));
        Assert.True(handle.WaitForExit(TimeSpan.FromSeconds(30)));
        sleeper.WaitForExit();
        Assert.False(handle.TrySignal(Posix.SigKill)); // gone: nothing reaches whoever gets the pid next
    }

    [Fact]
    public void No_handle_for_a_process_that_does_not_exist()
    {
        using var done = Process.Start("true");
        done.WaitForExit(); // reaped: the pid is free
        Assert.Null(ProcessHandle.TryOpen(done.Id));
    }
}
