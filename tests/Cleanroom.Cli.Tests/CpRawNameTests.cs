using System.Formats.Tar;
using System.Runtime.Versioning;
using Cleanroom.Cli.Files;
using Cleanroom.Cli.Tests.FakeDaemon;
using Cleanroom.Escaping;
using Cleanroom.HostProcesses;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// <c>cleanroom cp</c> with file names that are not valid UTF-8 (escaped bytes, see <see cref="FileNameBytes"/>): the
/// local tar carries them in the <see cref="PaxRawNames"/> records, and a download writes them byte-exact, checked with
/// shell tools rather than .NET (which cannot name them).
/// </summary>
[SupportedOSPlatform("linux")]
[Collection(FakeDaemonGroup.Name)]
public sealed class CpRawNameTests : IDisposable
{
    private const string File = "caf\uDCE9.txt", Nested = "d\uDCFF/f\uDCE9", Link = "l\uDCFE", Target = "t\uDCE9";

    private readonly FakeCleanroomDaemon _daemon;
    private readonly string _scratch = Directory.CreateTempSubdirectory("cleanroom-cp-raw-").FullName;
    private readonly string _id;

    public CpRawNameTests(FakeCleanroomDaemon daemon)
    {
        _daemon = daemon;
        _id = daemon.State.NextId("s");
        Directory.CreateDirectory(Path.Join(_scratch, "guest", "tree"));
        Directory.CreateDirectory(Path.Join(_scratch, "local"));
        FakeGuestFiles.Roots[_id] = Path.Join(_scratch, "guest");
    }

    private string Local => Path.Join(_scratch, "local");

    public void Dispose()
    {
        FakeGuestFiles.Roots.TryRemove(_id, out _);
        FakeGuestFiles.CannedArchives.TryRemove(_id, out _);
        // rm, not Directory.Delete: .NET cannot name what these tests make.
        HostCommand.RunAsync("rm", ["-rf", "--", _scratch], TimeSpan.FromMinutes(1), CancellationToken.None).GetAwaiter().GetResult();
    }

    [Fact]
    public async Task The_local_tar_carries_names_and_symlink_targets_byte_exact()
    {
        var tree = Path.Join(_scratch, "src");
        await ShAsync(_scratch, $"mkdir -p src/\"$(dirname {Word(Nested)})\" && cd src && printf 'one' > {Word(File)} && printf 'two' > {Word(Nested)} && chmod 0750 {Word(Nested)} && ln -s {Word(Target)} {Word(Link)}");
        var warnings = new List<string>();

        using var tar = new MemoryStream();
        await LocalTar.WriteAsync(tar, tree, "tree", warnings.Add, CancellationToken.None);

        tar.Position = 0;
        var entries = new Dictionary<string, TarEntry>(StringComparer.Ordinal);
        using (var reader = new TarReader(tar))
        {
            while (reader.GetNextEntry(copyData: true) is { } entry)
            {
                entries[PaxRawNames.NameOf(entry)] = entry;
            }
        }

        Assert.Empty(warnings);
        Assert.Equal(["tree", "tree/" + File, "tree/d\uDCFF", "tree/" + Nested, "tree/" + Link], entries.Keys);
        Assert.Equal("one", await new StreamReader(entries["tree/" + File].DataStream!).ReadToEndAsync());
        Assert.Equal("two", await new StreamReader(entries["tree/" + Nested].DataStream!).ReadToEndAsync());
        Assert.Equal((UnixFileMode)0x1E8, entries["tree/" + Nested].Mode);
        Assert.Equal(TarEntryType.SymbolicLink, entries["tree/" + Link].EntryType);
        Assert.Equal(FileNameBytes.Encode(Target), FileNameBytes.Encode(PaxRawNames.LinkNameOf(entries["tree/" + Link])));
        var raw = ((PaxTarEntry)entries["tree/" + Nested]).ExtendedAttributes[PaxRawNames.PathKey];
        Assert.Equal(FileNameBytes.Encode("tree/" + Nested), Convert.FromBase64String(raw));
    }

    [Fact]
    public async Task A_download_writes_them_byte_exact_and_merges_into_an_existing_copy()
    {
        FakeGuestFiles.CannedArchives[_id] = Archive("from the sandbox\n");
        await ShAsync(Local, $"mkdir tree && printf 'old' > tree/{Word(File)}");

        var (code, err) = await CpAsync($"{_id}:/tree", Local);

        Assert.True(code == 0, err);
        Assert.Equal(["tree", "tree/" + File, "tree/d\uDCFF", "tree/" + Nested, "tree/" + Link], await ListAsync(Local));
        Assert.Equal("from the sandbox", await ShAsync(Local, $"cat tree/{Word(File)}"));
        Assert.Equal(Convert.ToHexStringLower(FileNameBytes.Encode(Target)), await ShAsync(Local, $"printf '%s' \"$(readlink tree/{Word(Link)})\" | od -An -v -tx1 | tr -d ' \\n'"));
    }

    private static byte[] Archive(string content)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(Entry(TarEntryType.Directory, "tree"));
            writer.WriteEntry(Entry(TarEntryType.RegularFile, "tree/" + File, content: content));
            writer.WriteEntry(Entry(TarEntryType.Directory, "tree/d\uDCFF"));
            writer.WriteEntry(Entry(TarEntryType.RegularFile, "tree/" + Nested, content: "nested\n"));
            writer.WriteEntry(Entry(TarEntryType.SymbolicLink, "tree/" + Link, Target));
        }

        return tar.ToArray();

        static PaxTarEntry Entry(TarEntryType type, string name, string? link = null, string? content = null)
        {
            var entry = PaxRawNames.Entry(type, name, link);
            entry.Mode = type == TarEntryType.RegularFile ? (UnixFileMode)0x1A4 : (UnixFileMode)0x1ED;
            if (content is not null)
            {
                entry.DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
            }

            return entry;
        }
    }

    private async Task<(int Code, string Err)> CpAsync(string source, string destination)
    {
        using var cli = new CliHarness(_daemon.Endpoint) { WorkingDirectory = Local };
        var code = await cli.RunAsync("cp", source, destination);
        return (code, cli.Err);
    }

    /// <summary>A shell word that expands to exactly the name's bytes.</summary>
    private static string Word(string name) =>
        "\"$(printf '" + string.Concat(FileNameBytes.Encode(name).Select(b => "\\" + Convert.ToString(b, 8).PadLeft(3, '0'))) + "')\"";

    private static async Task<string> ShAsync(string directory, string script) =>
        (await HostCommand.RunAsync("sh", ["-c", $"cd '{directory}' && {script}"], TimeSpan.FromMinutes(1), CancellationToken.None)).Stdout.Trim();

    /// <summary>Every path below <paramref name="directory"/>, from <c>find -print0</c>, decoded exactly and sorted.</summary>
    private static async Task<string[]> ListAsync(string directory)
    {
        var bytes = Convert.FromHexString(await ShAsync(directory, "find . -mindepth 1 -print0 | od -An -v -tx1 | tr -d ' \\n'"));
        var paths = new List<string>();
        foreach (var range in bytes.AsSpan().Split((byte)0))
        {
            if (!bytes.AsSpan(range).IsEmpty)
            {
                paths.Add(FileNameBytes.Decode(bytes.AsSpan(range)[2..]));
            }
        }

        return [.. paths.Order(StringComparer.Ordinal)];
    }
}
