using System.Buffers;
using System.Diagnostics;
using System.Text;
using Cleanroom.Escaping;
using Cleanroom.Gateway.Server;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Gateway.Routes;

/// <summary>
/// Answers a git smart-HTTP fetch from a host-side bare mirror with host git (<c>git upload-pack --stateless-rpc</c>),
/// the way <c>git http-backend</c> would: the ref advertisement (with the pkt-line service header for protocol v0/v1)
/// or the answer to an upload-pack request body. Bounded in time and bytes; flagged stale like any answer that did not
/// come from the upstream. The git it runs ignores the host's global and system configuration.
/// </summary>
internal sealed class GitMirrorServer(GatewayOptions options, ILogger logger)
{
    private const int BufferSize = 64 << 10;
    private const int MaxWants = 100_000;
    private const int StderrKept = 4 << 10;
    private const int MaxConcurrentGit = 4;

    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// git processes answering from mirrors at once, across all sandboxes (and gateways in this process): each
    /// upload-pack starts a pack-objects that uses every core, and the per-sandbox request limit alone would let every
    /// sandbox run many. Past it, the request is not answered from a mirror (the upstream's failure stands).
    /// </summary>
    private static readonly SemaphoreSlim Running = new(MaxConcurrentGit, MaxConcurrentGit);

    /// <summary>
    /// Serves the request from <paramref name="mirror"/>: the ref advertisement when <paramref name="body"/> is null,
    /// otherwise upload-pack's answer to it. False (nothing written) when git could not start or answered nothing.
    /// </summary>
    public async Task<bool> TryServeAsync(
        GatewayRequest request, string mirror, byte[]? body, string gitProtocol, RouteCounterSet.Counters counters)
    {
        if (!Running.Wait(0))
        {
            logger.LogWarning("gateway: {Max} answers from mirrors are running already; not answering from {Mirror}", MaxConcurrentGit, mirror);
            return false;
        }

        try
        {
            return await ServeAsync(request, mirror, body, gitProtocol, counters);
        }
        finally
        {
            Running.Release();
        }
    }

    private async Task<bool> ServeAsync(
        GatewayRequest request, string mirror, byte[]? body, string gitProtocol, RouteCounterSet.Counters counters)
    {
        var advertise = body is null;

        // The store's own refs (refs/cleanroom/…: commits pinned for other sandboxes' workspaces) are not the
        // repository's and stay hidden; --strict: the mirror path is the repository, never MIRROR/.git.
        string[] common = ["-c", "uploadpack.hideRefs=refs/cleanroom", "upload-pack", "--strict", "--stateless-rpc"];
        string[] args = advertise ? [.. common, "--advertise-refs", mirror] : [.. common, mirror];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(request.Aborted);
        deadline.CancelAfter(options.GitMirrorTimeout);
        using var process = Start(args, gitProtocol);
        if (process is null)
        {
            return false;
        }

        var stderr = ReadTailAsync(process.StandardError.BaseStream);
        var feed = FeedAsync(process, body ?? [], deadline.Token);
        var output = process.StandardOutput.BaseStream;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var response = request.Http.Response;
        long sent = 0;
        try
        {
            var n = await output.ReadAsync(buffer.AsMemory(0, BufferSize), deadline.Token);
            if (n == 0)
            {
                await process.WaitForExitAsync(deadline.Token);
                logger.LogWarning("gateway: git upload-pack in mirror {Mirror} answered nothing (exit {Code}): {Error}",
                    mirror, process.ExitCode, UntrustedText.Escape(await stderr, 500));
                return false;
            }

            response.StatusCode = 200;
            response.ContentType = advertise ? "application/x-git-upload-pack-advertisement" : "application/x-git-upload-pack-result";
            response.Headers.CacheControl = "no-cache";
            response.Headers[ResponseWriter.CacheHeader] = "stale";
            if (advertise && !IsVersion2(gitProtocol))
            {
                // http-backend's preamble for v0/v1; a v2 advertisement is the capability list alone.
                var header = Encoding.ASCII.GetBytes("001e# service=git-upload-pack\n0000");
                await response.Body.WriteAsync(header, deadline.Token);
                sent += header.Length;
            }

            while (n > 0)
            {
                if (sent + n > options.GitMirrorMaxResponseBytes)
                {
                    logger.LogWarning("gateway: the answer from mirror {Mirror} passed {Max} bytes; cut", mirror, options.GitMirrorMaxResponseBytes);
                    Kill(process);
                    request.Http.Abort();
                    counters.UpstreamError();
                    return true;
                }

                await response.Body.WriteAsync(buffer.AsMemory(0, n), deadline.Token);
                sent += n;
                n = await output.ReadAsync(buffer.AsMemory(0, BufferSize), deadline.Token);
            }

            await process.WaitForExitAsync(deadline.Token);
            await feed;
            if (process.ExitCode != 0)
            {
                // Part of an answer is out: only a broken connection tells the client it is not whole.
                logger.LogWarning("gateway: git upload-pack in mirror {Mirror} failed (exit {Code}): {Error}",
                    mirror, process.ExitCode, UntrustedText.Escape(await stderr, 500));
                request.Http.Abort();
                counters.UpstreamError();
                return true;
            }

            counters.Stale();
            return true;
        }
        catch (OperationCanceledException) when (!request.Aborted.IsCancellationRequested)
        {
            logger.LogWarning("gateway: git upload-pack in mirror {Mirror} took longer than {Timeout}; killed", mirror, options.GitMirrorTimeout);
            Kill(process);
            if (!response.HasStarted)
            {
                return false;
            }

            request.Http.Abort();
            return true;
        }
        finally
        {
            Kill(process);
            counters.Served(sent);
            ArrayPool<byte>.Shared.Return(buffer);
            await Task.WhenAny(feed, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        }
    }

    /// <summary>
    /// True when <paramref name="mirror"/> has every object the upload-pack request <paramref name="body"/> wants
    /// (<c>want-ref</c>s are left to upload-pack), so a mirror that is behind is not asked for what it cannot give.
    /// </summary>
    public async Task<bool> HasWantsAsync(string mirror, byte[] body, CancellationToken cancellationToken)
    {
        var wants = GitPktLine.Wants(body, MaxWants);
        if (wants is null)
        {
            return false;
        }

        if (wants.Count == 0)
        {
            return true;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CheckTimeout);
        using var process = Start(["cat-file", "--batch-check=%(objectname)", mirror], "", inRepository: true);
        if (process is null)
        {
            return false;
        }

        try
        {
            var input = Encoding.ASCII.GetBytes(string.Join('\n', wants) + "\n");
            var stderr = ReadTailAsync(process.StandardError.BaseStream);
            var feed = FeedAsync(process, input, deadline.Token);
            var answer = await process.StandardOutput.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
            await feed;
            _ = await stderr;
            return process.ExitCode == 0 && !answer.Contains(" missing", StringComparison.Ordinal)
                && answer.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == wants.Count;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        finally
        {
            Kill(process);
        }
    }

    private static bool IsVersion2(string gitProtocol) => gitProtocol.Split(':').Any(p => p.Trim() == "version=2");

    /// <summary>
    /// Starts git with a clean environment: no inherited <c>GIT_*</c> variables, no global or system config, and
    /// <c>GIT_PROTOCOL</c> from the request (already checked printable and bounded). <paramref name="inRepository"/>
    /// puts the mirror in <c>GIT_DIR</c> (for commands that take no directory argument) instead of the last argument.
    /// </summary>
    private Process? Start(string[] args, string gitProtocol, bool inRepository = false)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("GIT_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_NO_REPLACE_OBJECTS"] = "1";
        if (gitProtocol.Length > 0)
        {
            start.Environment["GIT_PROTOCOL"] = gitProtocol;
        }

        if (inRepository)
        {
            start.Environment["GIT_DIR"] = args[^1];
            args = args[..^1];
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            return Process.Start(start);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            logger.LogWarning("gateway: could not start git to answer from a mirror: {Error}", ex.Message);
            return null;
        }
    }

    private static async Task FeedAsync(Process process, byte[] input, CancellationToken cancellationToken)
    {
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(input, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // git stopped reading (it failed, or was killed); its exit code says so.
        }
        finally
        {
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // Already broken.
            }
        }
    }

    /// <summary>The last few KiB of a stream (git's error output), read to its end so git never blocks on it.</summary>
    private static async Task<string> ReadTailAsync(Stream stream)
    {
        var kept = new List<byte>();
        var chunk = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(chunk)) > 0)
            {
                kept.AddRange(chunk.AsSpan(0, n));
                if (kept.Count > StderrKept)
                {
                    kept.RemoveRange(0, kept.Count - StderrKept);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The process went away.
        }

        return Encoding.UTF8.GetString([.. kept]);
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Exited meanwhile.
        }
    }
}
