using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Cleanroom.Oci;

namespace Cleanroom.TestSupport;

/// <summary>
/// A real registry for tests: Debian's <c>docker-registry</c> (distribution 2.8) on 127.0.0.1 with a free port, its
/// storage in a temp directory, optionally behind token auth with a <see cref="TokenServer"/>. Disposing kills it
/// and deletes its directory. Tests can reach into <see cref="DataDirectory"/> to corrupt or truncate stored blobs.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    public const string BinaryPath = "/usr/bin/docker-registry";

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly StringBuilder _log;
    private readonly string _directory;

    private RegistryServer(Process process, StringBuilder log, string directory, int port, RegistryAuth? auth, TokenServer? tokens)
    {
        _process = process;
        _log = log;
        _directory = directory;
        Port = port;
        Auth = auth;
        TokenServer = tokens;
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>: the registry part of image references, e.g. <c>{Host}/team/app:v1</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    /// <summary>The storage root (<c>storage.filesystem.rootdirectory</c>).</summary>
    public string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>The credentials the registry demands, when it demands any.</summary>
    public RegistryAuth? Auth { get; }

    /// <summary>The token service, when <see cref="Auth"/> is set.</summary>
    public TokenServer? TokenServer { get; }

    /// <summary>What the registry printed so far (warnings and errors; the level is warn).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Where the filesystem driver keeps the bytes of <paramref name="digest"/>.</summary>
    public string BlobDataPath(Digest digest) =>
        Path.Combine(DataDirectory, "docker", "registry", "v2", "blobs", "sha256", digest.Hex[..2], digest.Hex, "data");

    /// <summary>An image reference on this registry, e.g. <c>Reference("team/app:v1")</c>.</summary>
    public string Reference(string repositoryAndTag) => Host + "/" + repositoryAndTag;

    /// <summary>
    /// Starts a registry (and, with <paramref name="auth"/>, its token service) and waits until <c>GET /v2/</c>
    /// answers. Throws with the registry's output when it does not come up.
    /// </summary>
    public static async Task<RegistryServer> StartAsync(RegistryAuth? auth = null)
    {
        if (!File.Exists(BinaryPath))
        {
            throw new InvalidOperationException($"{BinaryPath} is missing: install Debian's docker-registry package (scripts/install-host-deps.sh does)");
        }

        var tokens = auth is null ? null : TokenServer.Start(auth);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "cleanroom-registry-" + Guid.NewGuid().ToString("N")[..12])).FullName;
                var port = FreePort.Next();
                var configPath = WriteConfig(directory, port, tokens);
                var log = new StringBuilder();
                var process = Launch(configPath, log);
                var server = new RegistryServer(process, log, directory, port, auth, tokens);
                try
                {
                    await server.WaitUntilAnsweringAsync();
                    return server;
                }
                catch (InvalidOperationException) when (attempt < 3 && server.Log.Contains("address already in use", StringComparison.Ordinal))
                {
                    // Another process took the port between FreePort.Next and the registry's bind: try another.
                    await server.StopAsync(disposeTokens: false);
                }
                catch
                {
                    await server.StopAsync(disposeTokens: false);
                    throw;
                }
            }
        }
        catch
        {
            if (tokens is not null)
            {
                await tokens.DisposeAsync();
            }

            throw;
        }
    }

    public ValueTask DisposeAsync() => StopAsync(disposeTokens: true);

    private async ValueTask StopAsync(bool disposeTokens)
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or not dying: the temp directory is removed below either way.
        }
        finally
        {
            _process.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort.
        }

        if (disposeTokens && TokenServer is not null)
        {
            await TokenServer.DisposeAsync();
        }
    }

    private static string WriteConfig(string directory, int port, TokenServer? tokens)
    {
        var data = Directory.CreateDirectory(Path.Combine(directory, "data")).FullName;
        var config = new StringBuilder();
        config.AppendLine("version: 0.1");
        config.AppendLine("log:");
        config.AppendLine("  level: warn");
        config.AppendLine("  accesslog:");
        config.AppendLine("    disabled: true");
        config.AppendLine("storage:");
        config.AppendLine("  filesystem:");
        config.AppendLine(CultureInfo.InvariantCulture, $"    rootdirectory: {Quote(data)}");
        config.AppendLine("  delete:");
        config.AppendLine("    enabled: true");
        config.AppendLine("  maintenance:");
        config.AppendLine("    uploadpurging:");
        config.AppendLine("      enabled: false");
        config.AppendLine("http:");
        config.AppendLine(CultureInfo.InvariantCulture, $"  addr: 127.0.0.1:{port}");
        // A fixed secret silences the "generated random secret" warning; upload state is only signed with it.
        config.AppendLine("  secret: cleanroom-test-registry-secret");
        if (tokens is not null)
        {
            var bundle = Path.Combine(directory, "token-root.pem");
            File.WriteAllText(bundle, tokens.CertificatePem);
            config.AppendLine("auth:");
            config.AppendLine("  token:");
            config.AppendLine(CultureInfo.InvariantCulture, $"    realm: {Quote(tokens.Realm.ToString())}");
            config.AppendLine(CultureInfo.InvariantCulture, $"    service: {Quote(tokens.Service)}");
            config.AppendLine(CultureInfo.InvariantCulture, $"    issuer: {Quote(tokens.Issuer)}");
            config.AppendLine(CultureInfo.InvariantCulture, $"    rootcertbundle: {Quote(bundle)}");
        }

        var path = Path.Combine(directory, "config.yml");
        File.WriteAllText(path, config.ToString());
        return path;
    }

    /// <summary>A YAML double-quoted scalar (paths and URLs here have no quotes or backslashes, but be exact).</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static Process Launch(string configPath, StringBuilder log)
    {
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(configPath);
        // REGISTRY_* variables override the config file; a developer's environment must not change the test registry.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("REGISTRY_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            // Keep the start and some of the rest; a misbehaving registry must not fill the test's memory.
            if (log.Length < 256 * 1024)
            {
                log.AppendLine(line);
            }
        }
    }

    private async Task WaitUntilAnsweringAsync()
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + StartupTimeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with code {_process.ExitCode} while starting:\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseUri, "v2/"));
                // 401 is an answer too: with token auth even /v2/ wants a token.
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"docker-registry did not answer on {Host} within {StartupTimeout.TotalSeconds} s:\n{Log}");
            }

            await Task.Delay(50);
        }
    }
}
