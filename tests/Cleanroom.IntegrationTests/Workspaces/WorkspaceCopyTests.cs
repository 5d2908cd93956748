namespace Cleanroom.IntegrationTests.Workspaces;

/// <summary>
/// Copy-in, copy-out and diff through the installed CLI against real guests: every kind of local change reaches the
/// guest, the guest's changes come back into the working tree, and local edits made meanwhile are never overwritten
/// without --force (the sandbox is kept instead, so nothing is lost).
/// </summary>
[Collection(WorkspaceTestGroup.Name)]
public sealed class WorkspaceCopyTests(WorkspaceEnvironment env)
{
    private const string Image = WorkspaceEnvironment.Image;

    [Fact]
    public async Task Sync_copies_every_kind_of_local_change_in_and_the_sandbox_changes_back()
    {
        using var repo = new TestRepository();
        repo.Write("a.txt", $"committed {Guid.NewGuid()}\n").Write("b.txt", "b\n").Write("old.txt", "moved\n").Write("run.sh", "#!/bin/sh\necho ran\n")
            .Write("dir/x", "x\n").Write(".gitignore", "*.log\n");
        repo.CommitAll("first");
        repo.Write("a.txt", "local\n").Write("u.txt", "untracked\n").Write("ignored.log", "ignored\n");
        File.Delete(repo.PathOf("b.txt"));
        File.Move(repo.PathOf("old.txt"), repo.PathOf("new.txt"));
        File.SetUnixFileMode(repo.PathOf("run.sh"), File.GetUnixFileMode(repo.PathOf("run.sh")) | UnixFileMode.UserExecute);

        var result = await env.CliAsync(repo.Root, "exec", "--sync", "--image", Image, "--", "sh", "-c",
            "cat a.txt; test -e b.txt && echo b || echo no-b; cat new.txt; test -e old.txt && echo old || echo no-old; ./run.sh; cat u.txt; "
            + "test -e ignored.log && echo log || echo no-log; echo made > made.txt; rm dir/x; echo changed >> a.txt; git status --porcelain | sort");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.StartsWith("local\nno-b\nmoved\nno-old\nran\nuntracked\nno-log\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("local changes into the sandbox", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("local\nchanged\n", File.ReadAllText(repo.PathOf("a.txt")));
        Assert.Equal("made\n", File.ReadAllText(repo.PathOf("made.txt")));
        Assert.False(File.Exists(repo.PathOf("dir/x")));
        Assert.False(File.Exists(repo.PathOf("b.txt")));
        Assert.Equal("moved\n", File.ReadAllText(repo.PathOf("new.txt")));
        Assert.Equal("ignored\n", File.ReadAllText(repo.PathOf("ignored.log")));
        Assert.Equal(
            [" D b.txt", " D dir/x", " D old.txt", " M a.txt", " M run.sh", "?? made.txt", "?? new.txt", "?? u.txt"],
            repo.Git("status", "--porcelain").Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Copy_out_refuses_local_edits_made_meanwhile_and_diff_shows_the_sandbox_changes()
    {
        using var repo = new TestRepository();
        repo.Write("a.txt", $"committed {Guid.NewGuid()}\n").Write("keep.txt", "keep\n").Write("gone.txt", "gone\n");
        repo.CommitAll("first");
        var created = await env.CliAsync(repo.Root, "sandbox", "create", "--image", Image);
        Assert.True(created.ExitCode == 0, created.Stderr);
        var id = created.Stdout.Trim();
        try
        {
            var changed = await env.CliAsync(null, "exec", "--in", id, "--", "sh", "-c", "echo sandbox > a.txt; echo new > added.txt; rm gone.txt; echo keep > keep.txt");
            Assert.True(changed.ExitCode == 0, changed.Stderr);
            repo.Write("a.txt", "edited locally meanwhile\n");

            var diff = await env.CliAsync(repo.Root, "workspace", "diff", id);
            var refused = await env.CliAsync(repo.Root, "workspace", "copy-out", id);
            var dryRun = await env.CliAsync(repo.Root, "workspace", "copy-out", id, "--dry-run", "--force", "--json");
            var untouched = File.ReadAllText(repo.PathOf("a.txt"));
            var forced = await env.CliAsync(repo.Root, "workspace", "copy-out", id, "--force");

            Assert.Equal("M\ta.txt\nA\tadded.txt\nD\tgone.txt\n", diff.Stdout);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("C\ta.txt", refused.Stdout, StringComparison.Ordinal);
            Assert.Contains("\"outcome\":\"DryRun\"", dryRun.Stdout, StringComparison.OrdinalIgnoreCase);
            Assert.Equal("edited locally meanwhile\n", untouched);
            Assert.True(forced.ExitCode == 0, forced.Stderr);
            Assert.Equal("sandbox\n", File.ReadAllText(repo.PathOf("a.txt")));
            Assert.Equal("new\n", File.ReadAllText(repo.PathOf("added.txt")));
            Assert.False(File.Exists(repo.PathOf("gone.txt")));
        }
        finally
        {
            await env.CliAsync(null, "sandbox", "rm", id);
        }
    }

    [Fact]
    public async Task An_exec_whose_copy_out_meets_a_local_edit_fails_and_keeps_its_sandbox()
    {
        using var repo = new TestRepository();
        repo.Write("a.txt", $"committed {Guid.NewGuid()}\n");
        repo.CommitAll("first");
        repo.Write("a.txt", "local edit, not copied in\n");

        var result = await env.CliAsync(repo.Root, "exec", "--copy-out", "--image", Image, "--", "sh", "-c", "echo sandbox > a.txt");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("local edit, not copied in\n", File.ReadAllText(repo.PathOf("a.txt")));
        var kept = System.Text.RegularExpressions.Regex.Match(result.Stderr, "the sandbox is kept: ([0-9a-z]+)");
        Assert.True(kept.Success, result.Stderr);
        var inspect = await env.CliAsync(null, "sandbox", "inspect", kept.Groups[1].Value);
        await env.CliAsync(null, "sandbox", "rm", kept.Groups[1].Value);
        Assert.Contains("status: ready", inspect.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_that_are_not_utf8_go_in_and_come_back_byte_exact()
    {
        // Octal escapes for printf: \351 is Latin-1's e-acute and \377 is never UTF-8.
        const string Odd = "\"$(printf 'caf\\351 \\377.txt')\"";
        const string Old = "\"$(printf 'old\\376')\"";
        const string Moved = "\"$(printf 'new\\375')\"";
        const string Link = "\"$(printf 'link\\374')\"";
        const string Made = "\"$(printf 'made\\373')\"";
        using var repo = new TestRepository();
        repo.Write("plain.txt", $"committed {Guid.NewGuid()}\n");
        repo.Shell($"echo committed > {Odd}; echo moved > {Old}");
        repo.CommitAll("first");
        repo.Shell($"echo local > {Odd}; mv {Old} {Moved}; ln -s {Odd} {Link}");

        var result = await env.CliAsync(repo.Root, "exec", "--sync", "--image", Image, "--", "sh", "-c",
            $"cat {Odd}; cat {Moved}; test -e {Old} && echo old || echo no-old; cat {Link}; "
            + $"echo sandbox >> {Odd}; echo made > {Made}; rm {Moved}");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("local\nmoved\nno-old\nlocal\n", result.Stdout);
        Assert.DoesNotContain("UTF-8", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("local\nsandbox\nmade\n", repo.Shell($"cat {Odd} {Made}"));
        Assert.Equal("636166e920ff2e7478740a", repo.Shell($"readlink {Link} | od -An -tx1 | tr -d ' \\n'"));
        Assert.Equal(
            // new\375 is gone: copied in, deleted by the sandbox (no whiteout marks it), so deleted here too.
            [" D \"old\\376\"", " M \"caf\\351 \\377.txt\"", "?? \"link\\374\"", "?? \"made\\373\""],
            repo.Git("status", "--porcelain").Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }
}
