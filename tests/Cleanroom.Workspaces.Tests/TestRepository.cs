namespace Cleanroom.Workspaces.Tests;

/// <summary>A git repository made by a test: one commit of every kind of entry, optionally left dirty afterwards.</summary>
internal sealed class TestRepository
{
    public const string Credential = "s3cr3t-token-x";
    public const int GeneratedFiles = 400;
    public const int BinaryBytes = 5 * 1024 * 1024;

    private TestRepository(string path, string commit)
    {
        Path = path;
        Commit = commit;
    }

    public string Path { get; }

    public string Commit { get; }

    /// <summary>
    /// Many small files, an executable, a symlink, names with a space and with a byte that is not UTF-8, a 5 MB
    /// binary, and a remote whose URL carries a credential the image must not get.
    /// </summary>
    public static async Task<TestRepository> CreateAsync(string path, int files = GeneratedFiles)
    {
        Directory.CreateDirectory(path);
        await Shell.GitAsync(path, "init", "-q", "-b", "main");
        for (var i = 0; i < files; i++)
        {
            var directory = System.IO.Path.Combine(path, "src", $"d{i % 20}");
            Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(System.IO.Path.Combine(directory, $"f{i}.txt"), $"file {i}\n");
        }

        await File.WriteAllTextAsync(System.IO.Path.Combine(path, "run.sh"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(System.IO.Path.Combine(path, "run.sh"), (UnixFileMode)0b111_101_101);
        await File.WriteAllTextAsync(System.IO.Path.Combine(path, "with space.txt"), "spaced\n");
        await Shell.ShAsync(path, "printf 'latin1\\n' > \"$(printf 'caf\\351.txt')\"");
        File.CreateSymbolicLink(System.IO.Path.Combine(path, "link"), "src/d0/f0.txt");
        var binary = new byte[BinaryBytes];
        new Random(42).NextBytes(binary);
        await File.WriteAllBytesAsync(System.IO.Path.Combine(path, "blob.bin"), binary);
        await File.WriteAllTextAsync(System.IO.Path.Combine(path, "changed.txt"), "committed\n");
        await File.WriteAllTextAsync(System.IO.Path.Combine(path, "deleted.txt"), "still in the commit\n");
        await Shell.GitAsync(path, "add", "-A");
        await Shell.GitAsync(path, "commit", "-q", "-m", "the commit");
        await Shell.GitAsync(path, "remote", "add", "origin", $"https://user:{Credential}@example.invalid/x.git");
        return new TestRepository(path, await Shell.GitAsync(path, "rev-parse", "HEAD"));
    }

    /// <summary>Every kind of uncommitted change: modified, deleted, staged-new, untracked, mode change.</summary>
    public async Task MakeDirtyAsync()
    {
        await File.WriteAllTextAsync(System.IO.Path.Combine(Path, "changed.txt"), "uncommitted\n");
        File.Delete(System.IO.Path.Combine(Path, "deleted.txt"));
        await File.WriteAllTextAsync(System.IO.Path.Combine(Path, "staged.txt"), "staged\n");
        await Shell.GitAsync(Path, "add", "staged.txt");
        await File.WriteAllTextAsync(System.IO.Path.Combine(Path, "untracked.txt"), "untracked\n");
        File.SetUnixFileMode(System.IO.Path.Combine(Path, "run.sh"), (UnixFileMode)0b110_100_100);
    }
}
