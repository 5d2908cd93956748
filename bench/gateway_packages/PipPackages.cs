using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Cleanroom.Gateway.Bench;

/// <summary>
/// <c>pip download --no-deps</c> of generated pure-Python wheels <c>bench-pkg-NN==1.0</c> (one module of 2-100 KB
/// of Python each, with a correct RECORD). The upstream directory holds two PEP 503 indexes over the same files under
/// <c>/packages/</c>: <c>/simple/</c> in PyPI's shape (absolute links to https://files.pythonhosted.org/... with
/// <c>#sha256=</c>, which the gateway rewrites to its own file route) for the gateway, and <c>/direct/simple/</c>
/// linking the files on the static server itself for the direct baseline.
/// </summary>
internal sealed class PipPackages : IPackageTool
{
    private const string Python = "/usr/bin/python3";
    private const string Version = "1.0";
    private readonly Dictionary<string, byte[]> _wheels = new(StringComparer.Ordinal);

    public PipPackages(string upstreamRoot, int packages, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < packages; i++)
        {
            var project = $"bench-pkg-{i:00}";
            var (fileName, wheel) = Wheel(project, random, (int)(2_000 * Math.Pow(50, random.NextDouble())));
            var sha = Convert.ToHexStringLower(SHA256.HashData(wheel));
            var path = $"/packages/{sha[..2]}/{sha[2..4]}/{sha[4..]}/{fileName}";
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Join(upstreamRoot, path))!);
            File.WriteAllBytes(Path.Join(upstreamRoot, path), wheel);
            Page(Path.Combine(upstreamRoot, "simple", project), $"https://files.pythonhosted.org{path}#sha256={sha}", fileName);
            Page(Path.Combine(upstreamRoot, "direct", "simple", project), $"{path}#sha256={sha}", fileName);
            _wheels[fileName] = wheel;
        }
    }

    public string Name => "pip download";

    public int Packages => _wheels.Count;

    public long ArchiveBytes => _wheels.Values.Sum(w => w.LongLength);

    public string DirectUrl(Uri upstream) => new Uri(upstream, "direct/simple/").ToString();

    public string GatewayUrl(Uri gateway) => new Uri(gateway, "pypi/pypi.org/simple/").ToString();

    public async Task<double> InstallAsync(string url, string scratch)
    {
        var run = Directory.CreateDirectory(Path.Combine(scratch, "pip-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        try
        {
            var home = Directory.CreateDirectory(Path.Combine(run, "home")).FullName;
            var target = Path.Combine(run, "wheels");
            string[] arguments =
            [
                "-m", "pip", "download", "--isolated", "--no-deps", "--no-cache-dir", "--disable-pip-version-check",
                "--no-input", "--timeout", "30", "--retries", "0", "--index-url", url, "--trusted-host", "127.0.0.1",
                "-d", target, .. _wheels.Keys.Select(f => f.Split('-')[0].Replace('_', '-') + "==" + Version),
            ];
            var seconds = await ClientProcess.RunAsync(Python, arguments, run, new Dictionary<string, string>
            {
                ["HOME"] = home,
                ["XDG_CACHE_HOME"] = Path.Combine(home, ".cache"),
                ["XDG_CONFIG_HOME"] = Path.Combine(home, ".config"),
                ["PIP_CONFIG_FILE"] = "/dev/null",
                ["PIP_CACHE_DIR"] = Path.Combine(home, "pip-cache"),
            });
            Verify(target, url);
            return seconds;
        }
        finally
        {
            ClientProcess.DeleteTree(run);
        }
    }

    private void Verify(string target, string url)
    {
        var present = Directory.Exists(target) ? Directory.GetFiles(target).Length : 0;
        foreach (var (fileName, wheel) in _wheels)
        {
            var file = Path.Combine(target, fileName);
            if (!File.Exists(file) || !File.ReadAllBytes(file).AsSpan().SequenceEqual(wheel))
            {
                throw new InvalidOperationException($"pip download from {url}: {fileName} is missing or not the served bytes");
            }
        }

        if (present != _wheels.Count)
        {
            throw new InvalidOperationException($"pip download from {url} left {present} files, expected {_wheels.Count}");
        }
    }

    private static void Page(string directory, string href, string fileName)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "index.html"),
            $"<!DOCTYPE html>\n<html><body>\n<a href=\"{href}\" data-requires-python=\"&gt;=3.7\">{fileName}</a><br/>\n</body></html>\n");
    }

    private static (string FileName, byte[] Bytes) Wheel(string project, Random random, int moduleBytes)
    {
        var module = project.Replace('-', '_');
        var distInfo = $"{module}-{Version}.dist-info";
        var files = new List<(string Path, byte[] Content)>
        {
            ($"{module}/__init__.py", Encoding.UTF8.GetBytes($"VERSION = \"{Version}\"\n" + SourceText.Python(random, moduleBytes))),
            ($"{distInfo}/METADATA", Encoding.UTF8.GetBytes($"Metadata-Version: 2.1\nName: {project}\nVersion: {Version}\nSummary: a bench package\n")),
            ($"{distInfo}/WHEEL", Encoding.UTF8.GetBytes("Wheel-Version: 1.0\nGenerator: cleanroom-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n")),
        };
        var record = new StringBuilder();
        foreach (var (path, content) in files)
        {
            var hash = Convert.ToBase64String(SHA256.HashData(content)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            record.Append(CultureInfo.InvariantCulture, $"{path},sha256={hash},{content.Length}\n");
        }

        record.Append(CultureInfo.InvariantCulture, $"{distInfo}/RECORD,,\n");
        files.Add(($"{distInfo}/RECORD", Encoding.UTF8.GetBytes(record.ToString())));
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                using var stream = zip.CreateEntry(path, CompressionLevel.Optimal).Open();
                stream.Write(content);
            }
        }

        return ($"{module}-{Version}-py3-none-any.whl", buffer.ToArray());
    }
}
