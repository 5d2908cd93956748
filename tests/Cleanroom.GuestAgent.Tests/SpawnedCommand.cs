using Cleanroom.GuestAgent.Processes;

namespace Cleanroom.GuestAgent.Tests;

/// <summary>
/// Runs a program to completion through the agent's own spawner, output and errors together. Never
/// System.Diagnostics.Process in this test project: the agent's reaper waits for every child of the process, and a
/// Process whose child it reaped never sees it exit.
/// </summary>
internal static class SpawnedCommand
{
    public static (int ExitCode, string Output) Run(string path, IReadOnlyList<string> argv, string workingDirectory = "/")
    {
        var output = Path.Combine(Path.GetTempPath(), $"cr-spawned-{Guid.NewGuid():N}");
        try
        {
            ProcessExit exit;
            using (var stdin = File.OpenHandle("/dev/null"))
            using (var stdout = File.OpenHandle(output, FileMode.CreateNew, FileAccess.Write))
            {
                var fdOut = (int)stdout.DangerousGetHandle();
                var spec = new SpawnSpec(path, argv, ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], workingDirectory,
                    new PipeStdio((int)stdin.DangerousGetHandle(), fdOut, fdOut), NewSession: false);
                var (_, exited) = ProcessSpawner.Start(spec, ChildReaper.Shared);
                if (!exited.Wait(TimeSpan.FromMinutes(1)))
                {
                    throw new TimeoutException($"{path} did not finish");
                }

                exit = exited.Result;
            }

            return (exit.Signal == 0 ? exit.ExitCode : 128 + exit.Signal, File.ReadAllText(output));
        }
        finally
        {
            File.Delete(output);
        }
    }
}
