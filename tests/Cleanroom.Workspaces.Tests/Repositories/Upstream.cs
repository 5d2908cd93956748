namespace Cleanroom.Workspaces.Tests.Repositories;

/// <summary>
/// A remote for the store to fetch from: a bare repository under a served project root, fed by pushes from a working
/// repository beside it, as a forge is fed by developers.
/// </summary>
internal sealed class Upstream
{
    private int _commits;

    private Upstream(string work, string bare)
    {
        WorkPath = work;
        BarePath = bare;
    }

    /// <summary>The working repository commits are made in.</summary>
    public string WorkPath { get; }

    /// <summary>The bare repository served (<c>&lt;root&gt;/&lt;name&gt;.git</c>).</summary>
    public string BarePath { get; }

    /// <summary>A repository with one commit on <c>main</c>, pushed to <c>&lt;root&gt;/&lt;name&gt;.git</c>.</summary>
    public static async Task<Upstream> CreateAsync(string root, string name, string workParent)
    {
        var bare = Path.Combine(root, name + ".git");
        var work = Path.Combine(workParent, name + "-work");
        Directory.CreateDirectory(work);
        await Shell.GitAsync(root, "init", "-q", "--bare", "-b", "main", bare);
        await Shell.GitAsync(work, "init", "-q", "-b", "main");
        await Shell.GitAsync(work, "remote", "add", "origin", bare);
        var upstream = new Upstream(work, bare);
        await upstream.CommitAsync("main");
        return upstream;
    }

    /// <summary>Commits a new file on <paramref name="branch"/> (created from the current commit if new), pushes it, returns its id.</summary>
    public async Task<string> CommitAsync(string branch, int bytes = 0)
    {
        await Shell.GitAsync(WorkPath, "checkout", "-q", "-B", branch);
        var n = ++_commits;
        await File.WriteAllTextAsync(Path.Combine(WorkPath, $"file{n}.txt"), $"commit {n} on {branch}\n");
        if (bytes > 0)
        {
            var random = new byte[bytes];
            new Random(n).NextBytes(random);
            await File.WriteAllBytesAsync(Path.Combine(WorkPath, $"blob{n}.bin"), random);
        }

        await Shell.GitAsync(WorkPath, "add", "-A");
        await Shell.GitAsync(WorkPath, "commit", "-q", "-m", $"commit {n}");
        await Shell.GitAsync(WorkPath, "push", "-q", "-f", "origin", branch);
        return await Shell.GitAsync(WorkPath, "rev-parse", "HEAD");
    }

    /// <summary>An annotated tag on the current commit, pushed.</summary>
    public async Task TagAsync(string tag)
    {
        await Shell.GitAsync(WorkPath, "tag", "-a", "-m", tag, tag);
        await Shell.GitAsync(WorkPath, "push", "-q", "origin", "refs/tags/" + tag);
    }

    /// <summary>Points the remote's HEAD (its default branch) at <paramref name="branch"/>.</summary>
    public Task SetDefaultBranchAsync(string branch) => Shell.GitAsync(BarePath, "symbolic-ref", "HEAD", "refs/heads/" + branch);
}
