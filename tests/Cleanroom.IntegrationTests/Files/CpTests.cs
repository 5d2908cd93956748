using System.Formats.Tar;
using Cleanroom.IntegrationTests.Workspaces;

namespace Cleanroom.IntegrationTests.Files;

/// <summary>
/// <c>cleanroom cp</c> through the installed CLI against a real daemon and guest: a tree with an executable and a
/// symlink goes in and comes back out equal (contents, modes, mtimes, the symlink's target), and a missing source
/// fails with a clear message.
/// </summary>
[Collection(WorkspaceTestGroup.Name)]
public sealed class CpTests(WorkspaceEnvironment env) : IDisposable
{
    private const UnixFileMode Mode640 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
    private const UnixFileMode Mode750 = Mode640 | UnixFileMode.UserExecute | UnixFileMode.GroupExecute;
    private const UnixFileMode Mode755 = Mode750 | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private static readonly DateTime FileTime = new(2021, 3, 4, 5, 6, 7, DateTimeKind.Utc);

    private readonly string _scratch = Directory.CreateTempSubdirectory("cr-it-cp-").FullName;

    // rm, not Directory.Delete: .NET cannot name the files whose names are not UTF-8.
    public void Dispose() => Shell("rm -rf -- \"$1\"");

    [Fact]
    public async Task A_tree_with_a_symlink_and_an_executable_round_trips_through_a_sandbox()
    {
        var tree = Path.Combine(_scratch, "tree");
        Write(Path.Combine(tree, "run.sh"), "#!/bin/sh\necho ran from cp\n", Mode755);
        Write(Path.Combine(tree, "sub", "data.txt"), $"data {Guid.NewGuid()}\n", Mode640);
        File.CreateSymbolicLink(Path.Combine(tree, "link"), "sub/data.txt");
        File.SetUnixFileMode(Path.Combine(tree, "sub"), Mode750);
        var back = Path.Combine(_scratch, "back");
        Directory.CreateDirectory(back);
        var id = await CreateSandboxAsync();
        try
        {
            var copyIn = await env.CliAsync(_scratch, "cp", "tree", $"{id}:/opt/copied");
            var inGuest = await env.CliAsync(null, "exec", "--in", id, "--", "sh", "-c",
                "cd /opt/copied && ./run.sh && stat -c '%a %n' run.sh sub sub/data.txt && readlink link && cat link");
            var copyOut = await env.CliAsync(_scratch, "cp", $"{id}:/opt/copied", "back");
            var asTar = await env.CliAsync(null, "cp", $"{id}:/opt/copied/run.sh", "-");
            var missing = await env.CliAsync(_scratch, "cp", $"{id}:/nonexistent", "x");

            Assert.True(copyIn.ExitCode == 0, copyIn.Stderr);
            Assert.True(inGuest.ExitCode == 0, inGuest.Stderr);
            Assert.Equal($"ran from cp\n755 run.sh\n750 sub\n640 sub/data.txt\nsub/data.txt\n{File.ReadAllText(Path.Combine(tree, "sub", "data.txt"))}", inGuest.Stdout);
            Assert.True(copyOut.ExitCode == 0, copyOut.Stderr);
            AssertSameTree(tree, Path.Combine(back, "copied"));
            Assert.Equal(["copied"], Directory.EnumerateFileSystemEntries(back).Select(Path.GetFileName));
            Assert.True(asTar.ExitCode == 0, asTar.Stderr);
            // Tar headers are ASCII, so the text the helper decoded turns back into the same bytes.
            using var reader = new TarReader(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(asTar.Stdout)));
            var entry = reader.GetNextEntry();
            Assert.Equal(("run.sh", TarEntryType.RegularFile, Mode755), (entry?.Name, entry?.EntryType, entry?.Mode));
            Assert.Null(reader.GetNextEntry());
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains($"{id}:/nonexistent: no such file or directory in the sandbox", missing.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_scratch, "x")));
        }
        finally
        {
            await env.CliAsync(null, "sandbox", "rm", id);
        }
    }

    [Fact]
    public async Task Contents_with_slash_dot_go_in_and_out_and_a_file_replaces_a_file()
    {
        var tree = Path.Combine(_scratch, "tree");
        Write(Path.Combine(tree, "a.txt"), "a\n", Mode640);
        Write(Path.Combine(tree, "bin", "tool"), "#!/bin/sh\necho tool\n", Mode755);
        var merged = Path.Combine(_scratch, "merged");
        Write(Path.Combine(merged, "mine.txt"), "mine\n", Mode640);
        var id = await CreateSandboxAsync();
        try
        {
            var copyIn = await env.CliAsync(_scratch, "cp", "tree/.", $"{id}:/srv/app");
            var replaced = await env.CliAsync(_scratch, "cp", "merged/mine.txt", $"{id}:/srv/app/a.txt");
            var copyOut = await env.CliAsync(_scratch, "cp", $"{id}:/srv/app/.", "merged");

            Assert.True(copyIn.ExitCode == 0, copyIn.Stderr);
            Assert.True(replaced.ExitCode == 0, replaced.Stderr);
            Assert.True(copyOut.ExitCode == 0, copyOut.Stderr);
            Assert.Equal("mine\n", File.ReadAllText(Path.Combine(merged, "a.txt")));
            Assert.Equal("mine\n", File.ReadAllText(Path.Combine(merged, "mine.txt")));
            Assert.Equal("#!/bin/sh\necho tool\n", File.ReadAllText(Path.Combine(merged, "bin", "tool")));
            Assert.Equal(Mode755, File.GetUnixFileMode(Path.Combine(merged, "bin", "tool")));
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(merged), e => Path.GetFileName(e).StartsWith('.'));
        }
        finally
        {
            await env.CliAsync(null, "sandbox", "rm", id);
        }
    }

    [Fact]
    public async Task A_name_that_is_not_utf8_goes_in_and_comes_back_byte_exact()
    {
        // \377 is never UTF-8; \351 is Latin-1's e-acute.
        Shell("mkdir \"$1/odd\" && cd \"$1/odd\" && echo inside > \"$(printf '\\377 caf\\351')\" && ln -s \"$(printf '\\377 caf\\351')\" \"$(printf 'to\\376')\"");
        var id = await CreateSandboxAsync();
        try
        {
            var copyIn = await env.CliAsync(_scratch, "cp", "odd", $"{id}:/opt/odd");
            var inGuest = await env.CliAsync(null, "exec", "--in", id, "--", "sh", "-c",
                "cd /opt/odd && export LC_ALL=C && cat \"$(printf 'to\\376')\" && ls | od -An -tx1 | tr -d ' \\n'");
            var copyOut = await env.CliAsync(_scratch, "cp", $"{id}:/opt/odd", "back");

            Assert.True(copyIn.ExitCode == 0, copyIn.Stderr);
            Assert.True(inGuest.ExitCode == 0, inGuest.Stderr);
            Assert.Equal("inside\n746ffe0aff20636166e90a", inGuest.Stdout); // ls: "to\376", "\377 caf\351"
            Assert.True(copyOut.ExitCode == 0, copyOut.Stderr);
            Assert.Equal("inside\n" + "746ffe0aff20636166e90a", Shell("cd \"$1/back\" && cat \"$(printf 'to\\376')\" && LC_ALL=C ls | od -An -tx1 | tr -d ' \\n'"));
        }
        finally
        {
            await env.CliAsync(null, "sandbox", "rm", id);
        }
    }

    private async Task<string> CreateSandboxAsync()
    {
        var created = await env.CliAsync(null, "sandbox", "create", "--image", WorkspaceEnvironment.Image);
        Assert.True(created.ExitCode == 0, created.Stderr);
        return created.Stdout.Trim();
    }

    private static void AssertSameTree(string expected, string actual)
    {
        var want = Entries(expected);
        Assert.Equal(want.Keys.Order(StringComparer.Ordinal), Entries(actual).Keys.Order(StringComparer.Ordinal));
        foreach (var (relative, info) in want)
        {
            var other = new FileInfo(Path.Combine(actual, relative));
            Assert.Equal(info.LinkTarget, other.LinkTarget);
            if (info.LinkTarget is not null)
            {
                continue;
            }

            Assert.Equal(File.GetUnixFileMode(info.FullName), File.GetUnixFileMode(other.FullName));
            if (!info.Attributes.HasFlag(FileAttributes.Directory))
            {
                Assert.Equal(File.ReadAllBytes(info.FullName), File.ReadAllBytes(other.FullName));
                Assert.Equal(info.LastWriteTimeUtc, other.LastWriteTimeUtc);
            }
        }
    }

    private static Dictionary<string, FileInfo> Entries(string root) =>
        new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .ToDictionary(info => Path.GetRelativePath(root, info.FullName), info => new FileInfo(info.FullName), StringComparer.Ordinal);

    private static void Write(string path, string content, UnixFileMode mode)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        File.SetLastWriteTimeUtc(path, FileTime);
    }

    /// <summary>Runs a shell script with the scratch directory as $1 (the way to make names .NET cannot).</summary>
    private string Shell(string script)
    {
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh", ["-c", script, "sh", _scratch]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? stdout : throw new InvalidOperationException($"sh failed: {stderr}");
    }
}
