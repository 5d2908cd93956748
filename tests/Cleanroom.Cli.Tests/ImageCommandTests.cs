using Cleanroom.Api.V1;
using Cleanroom.Cli.Tests.FakeDaemon;
using Google.Protobuf;

namespace Cleanroom.Cli.Tests;

/// <summary><c>cleanroom image pull|ls|rm|prune|import|resolve</c> against the fake daemon.</summary>
[Collection(FakeDaemonGroup.Name)]
public sealed class ImageCommandTests(FakeCleanroomDaemon daemon)
{
    private static string ResultLines(string outcome, string reference, string digest) =>
        $"{outcome}\nref={reference}\ndigest={digest}\nrootfs=/var/lib/cleanroom/images/{digest[7..19]}.ext4\nsize_bytes=16777216\n";

    private Image Store(string reference, TimeSpan sinceUse)
    {
        var digest = FakeImageService.DigestOf(reference);
        var image = FakeImageService.ImageFor(reference, digest, DateTime.UtcNow - sinceUse);
        daemon.State.Images[digest] = image;
        return image;
    }

    [Fact]
    public async Task Pull_prints_the_image_facts_and_one_stderr_line_per_phase_when_not_on_a_terminal()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "pull", "fresh-pull:1.0"));
        Assert.Equal(ResultLines("pulled image", "fresh-pull:1.0", FakeImageService.DigestOf("fresh-pull:1.0")), cli.Out);
        Assert.Equal(["PullImage fresh-pull:1.0"], daemon.State.CallsWith("fresh-pull:1.0")); // asks the registry: not if-missing
        // The fake sends three downloading and two building snapshots: still one line each.
        Assert.Equal(
            "cleanroom: downloading fresh-pull:1.0: 2 layers, 3.5MiB\ncleanroom: building rootfs for fresh-pull:1.0\n",
            cli.Err);
    }

    [Fact]
    public async Task Pull_of_a_stored_image_says_cached_and_prints_nothing_on_stderr()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "pull", "Registry.Example/team/cached:2"));
        // The ref is printed as the daemon records it: the registry name lowercased.
        Assert.Equal(ResultLines("cached image", "registry.example/team/cached:2", FakeImageService.DigestOf("Registry.Example/team/cached:2")), cli.Out);
        Assert.Equal("", cli.Err);
    }

    [Fact]
    public async Task Pull_json_is_the_image_message()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "pull", "fresh-json:1", "--json"));
        var image = JsonParser.Default.Parse<Image>(cli.Out);
        Assert.Equal(daemon.State.Images[FakeImageService.DigestOf("fresh-json:1")], image);
        Assert.Single(cli.Out.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Pull_on_a_terminal_draws_progress_on_stderr_and_keeps_stdout_plain()
    {
        using var cli = new CliHarness(daemon.Endpoint) { StderrIsTerminal = true };
        Assert.Equal(0, await cli.RunAsync("image", "pull", "fresh-terminal:1"));
        Assert.Equal(ResultLines("pulled image", "fresh-terminal:1", FakeImageService.DigestOf("fresh-terminal:1")), cli.Out);
        Assert.Contains("\u001b[", cli.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("cleanroom: downloading", cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pull_of_an_unknown_image_exits_1_with_the_reason_code()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("image", "pull", "missing-pull:1"));
        Assert.Equal("", cli.Out);
        Assert.Equal("cleanroom: image_not_found: manifest unknown: missing-pull:1\n", cli.Err);
    }

    [Fact]
    public async Task A_malformed_reference_is_a_usage_error_before_any_call()
    {
        var pulls = daemon.State.PullRequests.Count;
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await cli.RunAsync("image", "pull", "Not A Ref"));
        Assert.Contains("'Not A Ref' is not a valid image reference", cli.Err, StringComparison.Ordinal);
        Assert.Equal(pulls, daemon.State.PullRequests.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Interrupting_a_pull_cancels_it_and_exits_130(bool terminal)
    {
        daemon.State.HangingPullStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cli = new CliHarness(daemon.Endpoint) { StderrIsTerminal = terminal };
        var run = cli.RunAsync("image", "pull", "hang-pull:1");
        await daemon.State.HangingPullStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        cli.Context.Interrupts.Raise(2);
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(exit == 130, $"exit {exit}, stderr: {cli.Err}");
        Assert.EndsWith("cleanroom: interrupted\n", cli.Err, StringComparison.Ordinal);
        Assert.Equal("", cli.Out);
    }

    [Fact]
    public async Task Interrupting_the_pull_before_an_exec_creates_no_sandbox()
    {
        daemon.State.HangingPullStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cli = new CliHarness(daemon.Endpoint);
        var run = cli.RunAsync("exec", "--image", "hang-exec:1", "--", "true");
        await daemon.State.HangingPullStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
        cli.Context.Interrupts.Raise(2);
        Assert.Equal(130, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(["PullImage if-missing hang-exec:1"], daemon.State.CallsWith("hang-exec:1"));
    }

    [Fact]
    public async Task Ls_lists_short_digest_ref_size_relative_last_use_and_rootfs()
    {
        var image = Store("ls-image:1", TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(5));
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "ls"));
        var lines = cli.Out.TrimEnd('\n').Split('\n');
        Assert.Matches("^DIGEST +REF +SIZE +LAST_USED +ROOTFS$", lines[0]);
        Assert.Contains(lines, line => System.Text.RegularExpressions.Regex.IsMatch(line,
            $"^{image.Digest[..19]} +ls-image:1 +3\\.4MiB +3 minutes ago +{image.RootfsPath}$"));
    }

    [Fact]
    public async Task Ls_json_is_the_list_response()
    {
        var image = Store("ls-json:1", TimeSpan.FromHours(2));
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "ls", "--json"));
        Assert.Contains(image, JsonParser.Default.Parse<ListImagesResponse>(cli.Out).Images);
    }

    [Fact]
    public async Task Rm_by_ref_or_short_digest_prints_the_digest_and_first_ref()
    {
        var byRef = Store("rm-by-ref:1", TimeSpan.Zero);
        var byDigest = Store("rm-by-digest:1", TimeSpan.Zero);
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "rm", "rm-by-ref:1", byDigest.Digest[..19]));
        Assert.Equal($"removed {byRef.Digest} (rm-by-ref:1)\nremoved {byDigest.Digest} (rm-by-digest:1)\n", cli.Out);
        Assert.False(daemon.State.Images.ContainsKey(byRef.Digest));
        Assert.False(daemon.State.Images.ContainsKey(byDigest.Digest));
    }

    [Fact]
    public async Task Rm_of_an_unknown_image_reports_image_not_found_and_exits_1_but_removes_the_others()
    {
        var image = Store("rm-partial:1", TimeSpan.Zero);
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("image", "rm", "nothing-stored:1", "rm-partial:1"));
        Assert.Equal($"removed {image.Digest} (rm-partial:1)\n", cli.Out);
        Assert.Equal("cleanroom: nothing-stored:1: image_not_found: no stored image matches 'nothing-stored:1' (see `cleanroom image ls`)\n", cli.Err);
    }

    [Fact]
    public async Task Prune_dry_run_lists_unused_images_then_prune_removes_them_and_reports_the_bytes_freed()
    {
        var older = Store("prune-older:1", TimeSpan.FromHours(2));
        var newer = Store("prune-newer:1", TimeSpan.FromHours(1));
        var inUse = Store("prune-in-use:1", TimeSpan.FromHours(3));
        using var dryRun = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await dryRun.RunAsync("image", "prune", "--dry-run"));
        Assert.Equal(
            $"would remove {older.Digest} (prune-older:1)\nwould remove {newer.Digest} (prune-newer:1)\nwould prune 2 images, freeing 32MiB\n",
            dryRun.Out);
        Assert.True(daemon.State.Images.ContainsKey(older.Digest));

        using var prune = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await prune.RunAsync("image", "prune"));
        Assert.Equal($"removed {older.Digest} (prune-older:1)\nremoved {newer.Digest} (prune-newer:1)\npruned 2 images, freed 32MiB\n", prune.Out);
        Assert.False(daemon.State.Images.ContainsKey(older.Digest));
        Assert.False(daemon.State.Images.ContainsKey(newer.Digest));
        Assert.True(daemon.State.Images.ContainsKey(inUse.Digest));

        using var again = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await again.RunAsync("image", "prune"));
        Assert.Equal("no unused images\n", again.Out);
    }

    [Fact]
    public async Task Prune_json_is_the_response_message()
    {
        var image = Store("prune-json:1", TimeSpan.Zero);
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "prune", "--json"));
        var response = JsonParser.Default.Parse<PruneImagesResponse>(cli.Out);
        Assert.Contains(image, response.Removed);
        Assert.False(response.DryRun);
        Assert.Equal(response.Removed.Sum(i => i.FilesystemBytes), response.FreedBytes);
        Assert.False(daemon.State.Images.ContainsKey(image.Digest));
    }

    [Fact]
    public async Task Import_streams_the_file_in_1_MiB_chunks_with_the_ref_on_the_first()
    {
        var data = RandomBytes((2 * 1024 * 1024) + (512 * 1024), seed: 1);
        var file = Path.Join(Directory.CreateTempSubdirectory("cleanroom-import-").FullName, "image.tar");
        await File.WriteAllBytesAsync(file, data);
        var before = daemon.State.Imports.Count;

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "import", "imported-file:1", file));

        var import = daemon.State.Imports.Skip(before).Single();
        Assert.Equal("imported-file:1", import.Ref);
        Assert.Empty(import.LaterRefs);
        Assert.Equal(data, import.Data.ToArray());
        Assert.Equal([1 << 20, 1 << 20, 512 * 1024], import.ChunkSizes);
        Assert.Equal(ResultLines("imported image", "imported-file:1", FakeImageService.DigestOf(data)), cli.Out);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Import_reads_piped_stdin_without_a_file_or_with_a_dash(bool dash)
    {
        var data = RandomBytes(300_000, seed: 2);
        var before = daemon.State.Imports.Count;
        using var cli = new CliHarness(daemon.Endpoint) { Stdin = new MemoryStream(data) };
        string[] args = dash ? ["image", "import", "imported-stdin:1", "-", "--json"] : ["image", "import", "imported-stdin:1", "--json"];
        Assert.Equal(0, await cli.RunAsync(args));

        var import = daemon.State.Imports.Skip(before).Single();
        Assert.Equal("imported-stdin:1", import.Ref);
        Assert.Equal(data, import.Data.ToArray());
        Assert.Equal(FakeImageService.DigestOf(data), JsonParser.Default.Parse<Image>(cli.Out).Digest);
    }

    [Fact]
    public async Task Import_refuses_to_read_an_archive_from_a_terminal()
    {
        var before = daemon.State.Imports.Count;
        using var cli = new CliHarness(daemon.Endpoint) { StdinIsTerminal = true };
        Assert.Equal(2, await cli.RunAsync("image", "import", "imported-terminal:1"));
        Assert.StartsWith("cleanroom: no archive to import: give FILE, or pipe one in", cli.Err, StringComparison.Ordinal);
        Assert.Equal(before, daemon.State.Imports.Count);
    }

    [Fact]
    public async Task Import_of_a_missing_file_is_a_usage_error()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await cli.RunAsync("image", "import", "imported-missing:1", "/nonexistent/image.tar"));
        Assert.StartsWith("cleanroom: cannot read /nonexistent/image.tar: ", cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_prints_the_pinned_reference_and_json_the_response()
    {
        var digest = FakeImageService.DigestOf("alpine:3.20");
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "resolve", "alpine:3.20"));
        Assert.Equal($"alpine@{digest}\n", cli.Out);

        using var json = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await json.RunAsync("image", "resolve", "alpine:3.20", "--json"));
        Assert.Equal(
            new ResolveImageResponse { ResolvedRef = "alpine@" + digest, Digest = digest, Repository = "alpine" },
            JsonParser.Default.Parse<ResolveImageResponse>(json.Out));
    }

    [Fact]
    public async Task Sandbox_create_with_an_image_pulls_it_before_creating_and_keeps_stdout_to_the_id()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("sandbox", "create", "--image", "fresh-create:1"));
        Assert.Equal(["PullImage if-missing fresh-create:1", "CreateSandbox fresh-create:1"], daemon.State.CallsWith("fresh-create:1"));
        Assert.Matches("^[0-9a-z]{26}\n$", cli.Out);
        Assert.EndsWith($"cleanroom: pulled fresh-create:1 ({FakeImageService.DigestOf("fresh-create:1")})\n", cli.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sandbox create")]
    [InlineData("sandbox create --image builtin:busybox")]
    [InlineData("exec -- true")]
    [InlineData("exec --image builtin:busybox -- true")]
    public async Task No_image_or_the_builtin_image_pulls_nothing(string commandLine)
    {
        var (pulls, creates) = (daemon.State.PullRequests.Count, daemon.State.CreateRequests.Count);
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync(commandLine.Split(' ')));
        Assert.Equal(creates + 1, daemon.State.CreateRequests.Count);
        Assert.Equal(pulls, daemon.State.PullRequests.Count);
    }

    [Fact]
    public async Task Exec_with_an_image_pulls_it_first_and_keeps_progress_out_of_stdout()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(3, await cli.RunAsync("exec", "--image", "fresh-exec:1", "--", "both"));
        Assert.Equal(["PullImage if-missing fresh-exec:1", "CreateSandbox fresh-exec:1"], daemon.State.CallsWith("fresh-exec:1"));
        Assert.Equal("o1\no2\n", cli.Out);
        Assert.Equal(
            "cleanroom: downloading fresh-exec:1: 2 layers, 3.5MiB\n"
            + "cleanroom: building rootfs for fresh-exec:1\n"
            + $"cleanroom: pulled fresh-exec:1 ({FakeImageService.DigestOf("fresh-exec:1")})\n"
            + "e1\n",
            cli.Err);
    }

    [Fact]
    public async Task Exec_pulls_the_policy_image_when_no_image_flag_is_given()
    {
        var repository = Directory.CreateTempSubdirectory("cleanroom-exec-policy-").FullName;
        await File.WriteAllTextAsync(Path.Join(repository, "cleanroom.yaml"), "version: 1\nsandbox:\n  image:\n    ref: policy-image:1\n  network:\n    default: deny\n");
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("exec", "-c", repository, "--", "true"));
        Assert.Equal(["PullImage if-missing policy-image:1", "CreateSandbox policy-image:1"], daemon.State.CallsWith("policy-image:1"));
        Directory.Delete(repository, recursive: true);
    }

    [Fact]
    public async Task Exec_stops_before_creating_a_sandbox_when_the_pull_fails()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("exec", "--image", "missing-exec:1", "--", "true"));
        Assert.Equal(["PullImage if-missing missing-exec:1"], daemon.State.CallsWith("missing-exec:1"));
        Assert.Equal("cleanroom: image_not_found: manifest unknown: missing-exec:1\n", cli.Err);
    }

    [Fact]
    public async Task Sandbox_inspect_shows_the_image_digest()
    {
        using var create = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await create.RunAsync("sandbox", "create", "--image", "inspect-digest:1"));
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("sandbox", "inspect", create.Out.Trim()));
        Assert.Contains($"image_ref: inspect-digest:1\nimage_digest: {FakeImageService.DigestOf("inspect-digest:1")}\n", cli.Out, StringComparison.Ordinal);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
