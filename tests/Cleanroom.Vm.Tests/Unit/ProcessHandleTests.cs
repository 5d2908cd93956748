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
    public async Task Exits_of_many_processes_are_reported_without_a_thread_each()
    {
        // A restarted daemon takes over every running VM: watching forty of them must not cost forty threads.
        var sleepers = Enumerable.Range(0, 12).Select(_ => Process.Start("sleep", "600")).ToList();
        var handles = sleepers.Select(s => ProcessHandle.TryOpen(s.Id)!).ToList();
        try
        {
            var exits = handles.Select(h => h.Exited).ToList();
            Assert.Equal(1, WatcherThreads()); // the one shared watcher, whoever started it
            Assert.All(exits, e => Assert.False(e.IsCompleted));

            // The third one ends alone: only its task completes.
            Assert.True(handles[2].TrySignal(Posix.SigKill));
            await exits[2].WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(1, exits.Count(e => e.IsCompleted));

            foreach (var handle in handles)
            {
                handle.TrySignal(Posix.SigKill);
            }

            await Task.WhenAll(exits).WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            foreach (var (sleeper, handle) in sleepers.Zip(handles))
            {
                handle.Dispose();
                sleeper.Kill();
                sleeper.WaitForExit();
                sleeper.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_handle_disposed_while_watched_cancels_its_wait_and_leaves_the_others()
    {
        using var first = Process.Start("sleep", "600");
        using var second = Process.Start("sleep", "600");
        var firstHandle = ProcessHandle.TryOpen(first.Id)!;
        using var secondHandle = ProcessHandle.TryOpen(second.Id)!;
        var firstExit = firstHandle.Exited;
        var secondExit = secondHandle.Exited;

        firstHandle.Dispose();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstExit.WaitAsync(TimeSpan.FromSeconds(30)));

        second.Kill();
        await secondExit.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(first.HasExited);
        first.Kill();
        first.WaitForExit();
        second.WaitForExit();
    }

    [Fact]
    public async Task A_wait_started_while_another_thread_disposes_never_outlives_the_handle()
    {
        // Exited read on one thread while another disposes: the wait is refused or cancelled, never left watching a
        // descriptor that was closed (its number can come back as an unrelated file).
        using var sleeper = Process.Start("sleep", "600");
        try
        {
            for (var round = 0; round < 300; round++)
            {
                var handle = ProcessHandle.TryOpen(sleeper.Id)!;
                using var start = new Barrier(2);
                Task? exited = null;
                var reader = new Thread(() =>
                {
                    start.SignalAndWait();
                    try
                    {
                        exited = handle.Exited;
                    }
                    catch (ObjectDisposedException)
                    {
                        // Refused: the handle was disposed first.
                    }
                });
                reader.Start();
                start.SignalAndWait();
                handle.Dispose();
                reader.Join();
                if (exited is not null)
                {
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exited.WaitAsync(TimeSpan.FromSeconds(30)));
                }
            }
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }

    private static int WatcherThreads() =>
        Directory.GetDirectories("/proc/self/task").Count(task => ReadComm(task) == "process exits");

    private static string ReadComm(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
        }
        catch (IOException)
        {
            return ""; // the thread ended meanwhile
        }
    }

    [Fact]
    public void No_handle_for_a_process_that_does_not_exist()
    {
        using var done = Process.Start("true");
        done.WaitForExit(); // reaped: the pid is free
        Assert.Null(ProcessHandle.TryOpen(done.Id));
    }
}
