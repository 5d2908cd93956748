using System.Diagnostics;
using Cleanroom.HostProcesses;
using Cleanroom.Workspaces.Git;

namespace Cleanroom.Workspaces.Repositories;

/// <summary>How one git run in a mirror ended. Output is bounded and <see cref="Stderr"/> already scrubbed.</summary>
/// <param name="OverLimit">Killed because the mirror grew past the size limit.</param>
internal sealed record GitRun(int ExitCode, string Stdout, string Stderr, bool OverLimit);

/// <summary>
/// Runs host git for the repository store: with the host's own configuration (its credential helpers, ssh keys,
/// <c>http.extraHeader</c>, URL rewrites), plus the store's host git environment, and with everything that could make
/// it wait for a person or reach for another transport switched off. It is not <see cref="HostCommand"/>: that takes
/// no environment and names its argv in error messages, and the environment here may hold a token, so it is set on
/// the process (never in argv) and git's stderr is scrubbed before anyone sees it. It shares HostCommand's bounds:
/// stdin closed, output tails kept, the process tree killed at the timeout, and optionally when a size probe says
/// the mirror has outgrown its limit.
/// </summary>
internal sealed class RemoteGit
{
    private const int MaxOutputBytes = 1024 * 1024;
    private static readonly TimeSpan SizePollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Variables that would print traffic (headers included) to stderr or point git elsewhere.</summary>
    private static readonly string[] RemovedVariables =
    [
        .. HostGit.RemovedVariables,
        "GIT_TRACE", "GIT_TRACE_CURL", "GIT_TRACE_PACKET", "GIT_TRACE_PACKFILE", "GIT_TRACE_SETUP", "GIT_TRACE2",
        "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF", "GIT_CURL_VERBOSE", "GIT_REDACT_COOKIES", "SSH_ASKPASS", "GIT_PROTOCOL",
    ];

    private readonly IReadOnlyDictionary<string, string> _hostEnvironment;

    public RemoteGit(IReadOnlyDictionary<string, string> hostEnvironment)
    {
        _hostEnvironment = hostEnvironment;
        Scrubber = new GitOutputScrubber(hostEnvironment);
    }

    /// <summary>What makes git output safe to show; also used on messages built from it.</summary>
    public GitOutputScrubber Scrubber { get; }

    /// <summary>
    /// Runs <c>git -C <paramref name="directory"/> ARGS</c> and returns however it exited; throws
    /// <see cref="RepositoryException"/> (FetchFailed) when it times out or cannot start, and
    /// <see cref="OperationCanceledException"/> when <paramref name="ct"/> is cancelled (the process tree killed).
    /// </summary>
    /// <param name="sizeProbe">Polled while git runs; when it returns more than <paramref name="maxBytes"/> git is killed.</param>
    public async Task<GitRun> RunAsync(
        string directory, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct, Func<long>? sizeProbe = null, long maxBytes = long.MaxValue)
    {
        using var process = new Process { StartInfo = StartInfo(directory, args) };
        try
        {
            ChildSpawn.Start(process);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RepositoryException(RepositoryErrorKind.FetchFailed, $"git could not be started: {ex.Message}. Install git on the host.");
        }

        process.StandardInput.Close();
        await using var stdout = new StreamCapture(MaxOutputBytes);
        await using var stderr = new StreamCapture(MaxOutputBytes);
        stdout.Start(process.StandardOutput.BaseStream);
        stderr.Start(process.StandardError.BaseStream);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var overLimit = false;
        try
        {
            var exited = process.WaitForExitAsync(deadline.Token);
            while (sizeProbe is not null && !exited.IsCompleted)
            {
                await Task.WhenAny(exited, Task.Delay(SizePollInterval, deadline.Token));
                if (!exited.IsCompleted && sizeProbe() > maxBytes)
                {
                    overLimit = true;
                    Kill(process);
                    break;
                }
            }

            await exited;
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            ct.ThrowIfCancellationRequested();
            throw new RepositoryException(
                RepositoryErrorKind.FetchFailed, $"`git {args[0]}` timed out after {timeout.TotalSeconds:0.#} s and was killed.");
        }

        await Task.WhenAll(stdout.Completion, stderr.Completion);
        return new GitRun(process.ExitCode, stdout.RawText(), Scrubber.Scrub(stderr.PrintableText()), overLimit);
    }

    /// <summary>Like <see cref="RunAsync"/>, but a non-zero exit throws with git's (scrubbed) last lines.</summary>
    public async Task<GitRun> RunCheckedAsync(string directory, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var run = await RunAsync(directory, args, timeout, ct);
        if (run.ExitCode != 0)
        {
            throw new RepositoryException(
                RepositoryErrorKind.FetchFailed, $"`git {args[0]}` failed with exit code {run.ExitCode}: {LastLines(run.Stderr)}");
        }

        return run;
    }

    /// <summary>git's last few non-empty stderr lines, on one line each, for an error message.</summary>
    public static string LastLines(string stderr)
    {
        var tail = TextSanitizer.LastLines(stderr, 6).Trim();
        return tail.Length == 0 ? "(git printed nothing)" : tail;
    }

    private ProcessStartInfo StartInfo(string directory, IReadOnlyList<string> args)
    {
        var info = HostGit.StartInfo(directory, args, RemovedVariables);
        var environment = info.Environment;

        foreach (var (name, value) in _hostEnvironment)
        {
            environment[name] = value;
        }

        // ssh must not ask either: BatchMode fails instead of prompting for a password, passphrase or new host key.
        // A host that chose its own ssh command keeps it (and is responsible for making it non-interactive).
        if (!environment.ContainsKey("GIT_SSH_COMMAND") && !environment.ContainsKey("GIT_SSH"))
        {
            environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
        }

        // Set last, so the host environment cannot undo them. An empty GIT_ASKPASS wins over core.askPass and
        // SSH_ASKPASS and, being empty, runs nothing; with terminal prompts off git then fails instead of asking.
        environment["GIT_TERMINAL_PROMPT"] = "0";
        environment["GIT_ASKPASS"] = "";
        environment["SSH_ASKPASS_REQUIRE"] = "never";
        environment["GCM_INTERACTIVE"] = "never";
        environment["GIT_ALLOW_PROTOCOL"] = RepositoryUrl.AllowedProtocols;
        // English messages, which is what the authentication check reads.
        environment["LC_ALL"] = "C";
        environment["LANGUAGE"] = "C";
        return info;
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
