using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Cleanroom.TestSupport;

/// <summary>
/// A one-file gem built by the host's real <c>gem build</c>, and the files a gem server serves for it: the gem, the
/// compact index (<c>versions</c>, <c>info/NAME</c>, <c>names</c>) with the checksums Bundler checks (MD5 of the info
/// file, SHA-256 of the gem) and, when asked, the legacy index from <c>gem generate_index</c>. For the gateway's gem
/// tests and for the real Bundler in a guest.
/// </summary>
public sealed class TinyGem
{
    private const string GemTool = "/usr/bin/gem";

    private TinyGem(string name, string version, byte[] gem, IReadOnlyDictionary<string, byte[]> files)
    {
        Name = name;
        Version = version;
        Gem = gem;
        Files = files;
    }

    public string Name { get; }

    public string Version { get; }

    /// <summary>The gem file's name, <c>NAME-VERSION.gem</c>.</summary>
    public string FileName => $"{Name}-{Version}.gem";

    /// <summary>The gem's bytes.</summary>
    public byte[] Gem { get; }

    /// <summary>The gem's one file, <c>lib/NAME.rb</c>, to compare with what a client installs.</summary>
    public string LibSource => LibSourceOf(Version);

    /// <summary>The compact index's <c>info/NAME</c> text.</summary>
    public string InfoText => Encoding.UTF8.GetString(Files[$"/info/{Name}"]);

    /// <summary>Every file a gem server serves for this gem, by URL path (<c>/gems/…</c>, <c>/versions</c>, …).</summary>
    public IReadOnlyDictionary<string, byte[]> Files { get; }

    /// <summary>
    /// Builds <paramref name="name"/> <paramref name="version"/> in <paramref name="scratch"/> (a directory the caller
    /// removes) with a private HOME, so the host's gem configuration plays no part.
    /// </summary>
    public static async Task<TinyGem> BuildAsync(string scratch, string name, string version, bool legacyIndex)
    {
        var source = Directory.CreateDirectory(Path.Combine(scratch, "source")).FullName;
        var repository = Directory.CreateDirectory(Path.Combine(scratch, "repository", "gems")).Parent!.FullName;
        var home = Directory.CreateDirectory(Path.Combine(scratch, "home")).FullName;
        Directory.CreateDirectory(Path.Combine(source, "lib"));
        await File.WriteAllTextAsync(Path.Combine(source, "lib", $"{name}.rb"), LibSourceOf(version));
        await File.WriteAllTextAsync(Path.Combine(source, $"{name}.gemspec"), $"""
            Gem::Specification.new do |s|
              s.name = "{name}"
              s.version = "{version}"
              s.summary = "a test gem"
              s.authors = ["cleanroom tests"]
              s.license = "MIT"
              s.files = ["lib/{name}.rb"]
            end
            """);
        var fileName = $"{name}-{version}.gem";
        await RunGemAsync(source, home, "build", $"{name}.gemspec");
        File.Copy(Path.Combine(source, fileName), Path.Combine(repository, "gems", fileName));
        var files = new Dictionary<string, byte[]>();
        if (legacyIndex)
        {
            await RunGemAsync(repository, home, "generate_index", "-d", repository);
        }

        foreach (var file in Directory.EnumerateFiles(repository, "*", SearchOption.AllDirectories))
        {
            files["/" + Path.GetRelativePath(repository, file).Replace('\\', '/')] = await File.ReadAllBytesAsync(file);
        }

        var gem = files[$"/gems/{fileName}"];
        var info = Encoding.UTF8.GetBytes($"---\n{version} |checksum:{Convert.ToHexStringLower(SHA256.HashData(gem))}\n");
        files[$"/info/{name}"] = info;
#pragma warning disable CA5351 // The compact index format names each info file by its MD5; Bundler compares it.
        var infoMd5 = Convert.ToHexStringLower(MD5.HashData(info));
#pragma warning restore CA5351
        files["/versions"] = Encoding.UTF8.GetBytes($"created_at: 2026-01-01T00:00:00Z\n---\n{name} {version} {infoMd5}\n");
        files["/names"] = Encoding.UTF8.GetBytes($"---\n{name}\n");
        return new TinyGem(name, version, gem, files);
    }

    private static string LibSourceOf(string version) => $"module TinyGem\n  VERSION = \"{version}\"\nend\n";

    private static async Task RunGemAsync(string directory, string home, params string[] arguments)
    {
        if (!File.Exists(GemTool))
        {
            throw new InvalidOperationException($"{GemTool} is missing; scripts/install-host-deps.sh installs ruby");
        }

        var start = new ProcessStartInfo(GemTool)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Nothing from the host's gem or Ruby configuration.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("GEM", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("BUNDLE", StringComparison.OrdinalIgnoreCase) || k.StartsWith("RUBY", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        var gemrc = Path.Combine(home, "gemrc");
        await File.WriteAllTextAsync(gemrc, "---\n");
        start.Environment["HOME"] = home;
        start.Environment["GEMRC"] = gemrc;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("gem did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"gem {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await stdout}{await stderr}");
        }
    }
}
