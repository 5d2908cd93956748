using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>
/// Canned "commands" of the fake daemon, chosen by the first word of the command line. Each stands in for a guest
/// process just well enough to exercise one client behaviour.
/// </summary>
internal static class FakeBehaviours
{
    public static readonly byte[] BigOutput = MakeBigOutput();

    public static async Task RunAsync(FakeExecution execution, FakeDaemonState state)
    {
        var argv = execution.Request.Command;
        switch (argv[0])
        {
            case "both":
            case "logged-elsewhere": // its output comes from here once the client found the log file unreadable
                await execution.StdoutAsync("o1\n");
                await execution.StderrAsync("e1\n");
                await execution.StdoutAsync("o2\n");
                await execution.ExitAsync(3, ExecutionStatus.Failed);
                break;
            case "cat":
                await execution.StdinClosed.Task.WaitAsync(TimeSpan.FromSeconds(20));
                await execution.StdoutAsync(execution.StdinBytes());
                await execution.ExitAsync(0, ExecutionStatus.Succeeded);
                break;
            case "env":
                var options = execution.Request.Options;
                foreach (var entry in options.Env)
                {
                    await execution.StdoutAsync(entry + "\n");
                }

                await execution.StdoutAsync($"cwd={options.Cwd}\nuser={options.User}\ntty={options.Tty}\nattach_stdin={options.AttachStdin}\nargv={string.Join('|', argv)}\n");
                await execution.ExitAsync(0, ExecutionStatus.Succeeded);
                break;
            case "wait-signal":
                var signal = await execution.Signals.Reader.ReadAsync();
                await execution.ExitAsync(128 + signal, ExecutionStatus.Canceled);
                break;
            case "hang":
                // Ignores every signal, like a process that traps SIGINT.
                await foreach (var ignored in execution.Signals.Reader.ReadAllAsync())
                {
                    _ = ignored;
                }

                break;
            case "logged-torn" or "logged-short":
                // What a daemon streams from output offset 3, where the client's log file reading stopped ("o1\n").
                await execution.StderrAsync("e1\n");
                await execution.StdoutAsync("o2\n");
                await execution.ExitAsync(3, ExecutionStatus.Failed);
                break;
            case "missing":
                await execution.ExitAsync(127, ExecutionStatus.Failed, "command not found: missing");
                break;
            case "no-exit":
                await execution.StdoutAsync("partial\n");
                execution.EndStreamWithoutExit(5, ExecutionStatus.Failed);
                break;
            case "stream-fails":
                await execution.StdoutAsync("partial\n");
                execution.FailStream(4, ExecutionStatus.Failed, "daemon restarted");
                break;
            case "stream-lost":
                // The stream ends while the record still says running: the client cannot know the exit code.
                execution.Output.Writer.TryComplete();
                break;
            case "gated":
                await execution.StdoutAsync("first\n");
                await state.Gate(string.Join(' ', argv)).Task.WaitAsync(TimeSpan.FromSeconds(20));
                await execution.StdoutAsync("second\n");
                await execution.ExitAsync(0, ExecutionStatus.Succeeded);
                break;
            case "big":
                for (var offset = 0; offset < BigOutput.Length; offset += 32 * 1024)
                {
                    await execution.StdoutAsync(BigOutput[offset..Math.Min(BigOutput.Length, offset + 32 * 1024)]);
                }

                await execution.ExitAsync(0, ExecutionStatus.Succeeded);
                break;
            case "yes":
                // Endless output until a signal arrives (the client's SIGPIPE when its reader goes away).
                while (!execution.Signals.Reader.TryRead(out var received))
                {
                    await execution.StdoutAsync("y\n");
                    await Task.Delay(1);
                    _ = received;
                }

                await execution.ExitAsync(141, ExecutionStatus.Canceled);
                break;
            default:
                await execution.ExitAsync(0, ExecutionStatus.Succeeded);
                break;
        }
    }

    private static byte[] MakeBigOutput()
    {
        var data = new byte[3 * 1024 * 1024 + 123];
        new Random(42).NextBytes(data);
        return data;
    }
}
