using System.Text.Json;

namespace Cleanroom.IntegrationTests.Workspaces;

/// <summary>
/// <c>cleanroom exec</c> in a git repository, through the installed CLI: the guest gets the exact commit HEAD names in
/// /workspace (or the policy's path) with a usable .git, never the uncommitted changes, and a cached image makes the
/// next sandbox on the same commit cheap while each sandbox writes only to its own overlay.
/// </summary>
[Collection(WorkspaceTestGroup.Name)]
public sealed class WorkspaceExecTests(WorkspaceEnvironment env)
{
    private const string Image = WorkspaceEnvironment.Image;

    [Fact]
    public async Task Exec_runs_in_the_exact_commit_with_a_usable_git_and_warns_about_local_changes()
    {
        using var repo = new TestRepository();
        repo.Write("README.md", $"committed {Guid.NewGuid()}\n")
            .Write("run.sh", "#!/bin/sh\necho ran\n", LayerMode755)
            .Write("dir with space/f.txt", "x\n");
        File.CreateSymbolicLink(repo.PathOf("link"), "README.md");
        var commit = repo.CommitAll("first");
        var committed = File.ReadAllText(repo.PathOf("README.md"));
        repo.Write("README.md", "dirty\n").Write("untracked.txt", "u\n");

        var result = await env.CliAsync(Path.Combine(repo.Root, "dir with space"), "exec", "--image", Image, "--", "bash", "-c",
            "pwd; cat README.md; git log -1 --format=%H; git status --porcelain | wc -l; ./run.sh; readlink link; cat 'dir with space/f.txt'; test -e untracked.txt && echo leaked || echo absent");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal($"/workspace\n{committed}{commit}\n0\nran\nREADME.md\nx\nabsent\n", result.Stdout);
        Assert.Contains("2 files differ from HEAD", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_sandbox_on_the_same_commit_reuses_the_image_and_each_writes_only_its_own_overlay()
    {
        using var repo = new TestRepository();
        repo.Write("state.txt", $"original {Guid.NewGuid()}\n");
        var commit = repo.CommitAll("first");
        var original = File.ReadAllText(repo.PathOf("state.txt"));
        var first = await CreateAsync(repo.Root);
        var second = await CreateAsync(repo.Root);
        try
        {
            var changed = await env.CliAsync(null, "exec", "--in", first.Id, "--", "sh", "-c", "echo changed > state.txt && cat state.txt");
            var untouched = await env.CliAsync(null, "exec", "--in", second.Id, "--", "cat", "state.txt");
            var inspect = await env.CliAsync(null, "sandbox", "inspect", second.Id);

            Assert.Equal("changed\n", changed.Stdout);
            Assert.Equal(original, untouched.Stdout);
            Assert.Equal(original, File.ReadAllText(repo.PathOf("state.txt")));
            Assert.Contains($"repository_commit: {commit}\n", inspect.Stdout, StringComparison.Ordinal);
            Assert.Contains("workspace_path: /workspace\n", inspect.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await env.CliAsync(null, "sandbox", "rm", first.Id, second.Id);
        }

        Assert.True(first.ImageBuilt);
        Assert.False(second.ImageBuilt);
        Assert.Equal(commit, first.Commit);
        Assert.Equal(repo.Root, first.Repository);
    }

    [Fact]
    public async Task The_policy_decides_the_path_and_mode_none_checks_nothing_out()
    {
        using var repo = new TestRepository();
        repo.Write("hello.txt", $"hello {Guid.NewGuid()}\n").Write("cleanroom.yaml", Policy("path: /src"));
        repo.CommitAll("first");

        var atSrc = await env.CliAsync(repo.Root, "exec", "--image", Image, "--", "sh", "-c", "pwd; cat hello.txt | cut -c1-5");
        repo.Write("cleanroom.yaml", Policy("mode: none"));
        var none = await env.CliAsync(repo.Root, "exec", "--image", Image, "--", "sh", "-c", "test -e /workspace/hello.txt && echo present || echo absent");
        var outside = await env.CliAsync(null, "exec", "--image", Image, "--", "sh", "-c", "test -e /workspace/hello.txt && echo present || echo absent");

        Assert.True(atSrc.ExitCode == 0, atSrc.Stderr);
        Assert.Equal("/src\nhello\n", atSrc.Stdout);
        Assert.Equal("absent\n", none.Stdout);
        Assert.Equal("absent\n", outside.Stdout);
    }

    [Fact]
    public async Task A_remote_repository_is_fetched_by_url_at_a_tag_or_its_default_branch()
    {
        using var upstream = new TestRepository();
        upstream.Write("version.txt", $"v1 {Guid.NewGuid()}\n");
        upstream.CommitAll("one");
        upstream.Git("tag", "v1");
        var v1 = File.ReadAllText(upstream.PathOf("version.txt"));
        upstream.Write("version.txt", "v2\n");
        var head = upstream.CommitAll("two");
        var bare = upstream.Root + ".git";
        upstream.Git("clone", "-q", "--bare", upstream.Root, bare);
        try
        {
            var atTag = await env.CliAsync(null, "exec", "--image", Image, "--repo-url", "file://" + bare, "--repo-commit", "v1", "--", "cat", "version.txt");
            var atHead = await env.CliAsync(null, "exec", "--image", Image, "--repo-url", "file://" + bare, "--", "sh", "-c", "cat version.txt; git log -1 --format=%H; git config --get remote.origin.url || echo no-remote");
            var withToken = await env.CliAsync(null, "exec", "--image", Image, "--repo-url", "https://me:secret@git.invalid/app.git", "--", "true");
            var unknown = await env.CliAsync(null, "exec", "--image", Image, "--repo-url", "file://" + bare, "--repo-commit", "no-such-branch", "--", "true");

            Assert.True(atTag.ExitCode == 0, atTag.Stderr);
            Assert.Equal(v1, atTag.Stdout);
            Assert.Equal($"v2\n{head}\nno-remote\n", atHead.Stdout);
            Assert.NotEqual(0, withToken.ExitCode);
            Assert.Contains("password or token", withToken.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("secret", withToken.Stderr, StringComparison.Ordinal);
            Assert.NotEqual(0, unknown.ExitCode);
            Assert.Contains("no-such-branch", unknown.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(bare, recursive: true);
        }
    }

    [Fact]
    public async Task Submodules_are_checked_out_at_the_recorded_commits_and_tags_describe_the_commit()
    {
        using var dependency = new TestRepository();
        var content = $"dependency {Guid.NewGuid()}";
        dependency.Write("dep.txt", content + "\n");
        var recorded = dependency.CommitAll("dep one");
        using var repo = new TestRepository();
        repo.Write("cleanroom.yaml", Policy("submodules: true"));
        repo.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", dependency.Root, "lib/dep");
        var commit = repo.CommitAll("with a submodule");
        repo.Git("tag", "-a", "v1.2.3", "-m", "release");
        // A later commit in the submodule's own checkout is a local change: the guest gets the recorded one.
        dependency.Write("dep.txt", "later\n");
        dependency.CommitAll("dep two");
        repo.Git("-C", "lib/dep", "-c", "protocol.file.allow=always", "pull", "-q", "origin", "main");

        var result = await env.CliAsync(repo.Root, "exec", "--image", Image, "--", "bash", "-c",
            "cat lib/dep/dep.txt; git submodule status | cut -c1-41; git -C lib/dep log -1 --format=%H; git describe; git log -1 --format=%H; git status --porcelain --ignore-submodules=none | wc -l");

        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n');
        Assert.Equal(content, lines[0]);
        Assert.Equal($" {recorded}", lines[1]);
        Assert.Equal(recorded, lines[2]);
        Assert.Equal("v1.2.3", lines[3]);
        Assert.Equal(commit, lines[4]);
        Assert.Equal("0", lines[5]);
    }

    [Fact]
    public async Task A_non_root_image_user_owns_and_can_change_the_workspace()
    {
        using var repo = new TestRepository();
        repo.Write("state.txt", "original\n").Write("dir/inner.txt", "inner\n");
        repo.CommitAll("first");
        repo.Write("local.txt", "copied in\n");

        var result = await env.CliAsync(repo.Root, "exec", "--image", WorkspaceEnvironment.NonRootImage, "--copy-in", "--", "sh", "-c",
            "id -un; stat -c %U state.txt dir/inner.txt local.txt .git/index; echo changed > state.txt && touch dir/new && cat local.txt >> state.txt && cat state.txt && git status --porcelain | wc -l");

        // Root, who does not own this workspace, may still use git in it (no "dubious ownership").
        var asRoot = await env.CliAsync(repo.Root, "exec", "--image", WorkspaceEnvironment.NonRootImage, "--user", "root", "--", "git", "status", "--porcelain");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("nobody\nnobody\nnobody\nnobody\nnobody\nchanged\ncopied in\n3\n", result.Stdout);
        Assert.True(asRoot.ExitCode == 0, asRoot.Stderr);
        Assert.Equal("", asRoot.Stdout);
    }

    private const UnixFileMode LayerMode755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static string Policy(string repositoryLine) =>
        $"""
        version: 1
        sandbox:
          image:
            ref: ghcr.io/buildkite/cleanroom-base/debian@sha256:aaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdefbbbbbbbb
        repository:
          {repositoryLine}
        """;

    private async Task<(string Id, bool ImageBuilt, string Commit, string Repository)> CreateAsync(string directory)
    {
        var created = await env.CliAsync(directory, "sandbox", "create", "--image", Image, "--json");
        Assert.True(created.ExitCode == 0, created.Stderr);
        using var json = JsonDocument.Parse(created.Stdout);
        var sandbox = json.RootElement;
        var workspace = sandbox.GetProperty("workspace");
        return (
            sandbox.GetProperty("sandboxId").GetString()!,
            workspace.TryGetProperty("imageBuilt", out var built) && built.GetBoolean(),
            workspace.GetProperty("commit").GetString()!,
            workspace.GetProperty("repository").GetString()!);
    }
}
