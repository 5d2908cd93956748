using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cleanroom.Gateway.Bench;

/// <summary>Runs a package manager with only the environment given, timed, and fails loudly on a non-zero exit.</summary>
internal static class ClientProcess
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    /// <summary>
    /// An HTTP proxy address nothing listens on: set as HTTP(S)_PROXY it makes any request to a host other than
    /// loopback (NO_PROXY) fail locally, so a client that tried to leave the machine would fail the bench instead.
    /// </summary>
    public static string ClosedProxy { get; } = ClosedPort();

    /// <summary>Runs <paramref name="file"/> and returns the wall-clock seconds it took.</summary>
    public static async Task<double> RunAsync(string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/bin:/bin";
        start.Environment["LANG"] = "C.UTF-8";
        start.Environment["HTTP_PROXY"] = ClosedProxy;
        start.Environment["HTTPS_PROXY"] = ClosedProxy;
        start.Environment["http_proxy"] = ClosedProxy;
        start.Environment["https_proxy"] = ClosedProxy;
        start.Environment["NO_PROXY"] = "127.0.0.1";
        start.Environment["no_proxy"] = "127.0.0.1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Limit);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', start.ArgumentList.Take(4))} ... did not finish in {Limit.TotalMinutes} minutes");
        }

        var seconds = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
        {
            var output = (await stdout + await stderr).Trim();
            throw new InvalidOperationException($"{file} {string.Join(' ', start.ArgumentList.Take(4))} ... exited {process.ExitCode}:\n{output[Math.Max(0, output.Length - 4000)..]}");
        }

        return seconds;
    }

    /// <summary>Deletes a tree the client made read-only (the go module cache is).</summary>
    public static void DeleteTree(string path)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        foreach (var directory in Directory.EnumerateDirectories(path, "*", SearchOption.AllDirectories).Prepend(path))
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.Delete(path, recursive: true);
    }

    private static string ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
    }
}
