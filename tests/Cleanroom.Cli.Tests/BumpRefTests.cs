using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using Cleanroom.Cli.Tests.FakeDaemon;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// <c>cleanroom image bump-ref</c>: the policy file must change in exactly one place — the value of
/// <c>sandbox.image.ref</c> — and not at all when anything goes wrong.
/// </summary>
[Collection(FakeDaemonGroup.Name)]
public sealed class BumpRefTests(FakeCleanroomDaemon daemon) : IDisposable
{
    private const string OldDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    private readonly string _repository = Directory.CreateTempSubdirectory("cleanroom-bump-").FullName;

    private string PolicyPath => Path.Join(_repository, "cleanroom.yaml");

    public void Dispose() => Directory.Delete(_repository, recursive: true);

    [Fact]
    public async Task Follows_the_tag_of_a_pinned_ref_and_changes_nothing_else()
    {
        const string Template = """
            # cleanroom.yaml for the build.
            version: 1

            sandbox:
              image:
                # Pinned by `cleanroom image bump-ref`.
                ref: "ghcr.io/buildkite/cleanroom-base/alpine:3.20@{0}"   # keep this comment

              network:
                default: deny    # nothing unless allowed
                allow: []

            """;
        await File.WriteAllTextAsync(PolicyPath, Template.Replace("{0}", OldDigest, StringComparison.Ordinal));
        var newDigest = FakeImageService.DigestOf("ghcr.io/buildkite/cleanroom-base/alpine:3.20");

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "bump-ref", "-c", _repository));

        Assert.Equal(Template.Replace("{0}", newDigest, StringComparison.Ordinal), await File.ReadAllTextAsync(PolicyPath));
        Assert.Equal(
            $"policy={PolicyPath}\nsource=ghcr.io/buildkite/cleanroom-base/alpine:3.20\nref=ghcr.io/buildkite/cleanroom-base/alpine:3.20@{newDigest}\n",
            cli.Out);
        Assert.Equal("", cli.Err);
        Assert.Equal(["ResolveImage ghcr.io/buildkite/cleanroom-base/alpine:3.20"], daemon.State.CallsWith("ghcr.io/buildkite/cleanroom-base/alpine:3.20"));
    }

    [Fact]
    public async Task Rewrites_a_single_quoted_flow_style_ref_in_a_named_file_with_the_given_source()
    {
        const string Template = "version: 1\r\nsandbox:\r\n  image: {ref: '{0}', }  # flow\r\n  network: {default: deny}\r\n";
        var custom = Path.Join(_repository, "ci", "policy.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(custom)!);
        await File.WriteAllTextAsync(custom, Template.Replace("{0}", "alpine:3.19", StringComparison.Ordinal));

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "set-ref", "alpine:3.20", "--policy-path", "ci/policy.yaml", "-c", _repository));

        var pinned = "alpine:3.20@" + FakeImageService.DigestOf("alpine:3.20");
        Assert.Equal(Template.Replace("{0}", pinned, StringComparison.Ordinal), await File.ReadAllTextAsync(custom));
        Assert.EndsWith($"source=alpine:3.20\nref={pinned}\n", cli.Out, StringComparison.Ordinal);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task Fills_an_empty_ref_with_the_starter_image_keeping_a_byte_order_mark_and_the_file_mode()
    {
        var original = "\uFEFFversion: 1\nsandbox:\n  image:\n    ref:   # set me\n  network:\n    default: deny\n";
        await File.WriteAllBytesAsync(PolicyPath, Encoding.UTF8.GetBytes(original));
        File.SetUnixFileMode(PolicyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(0, await cli.RunAsync("image", "bump-ref", "-c", _repository, "--json"));

        var pinned = "ghcr.io/buildkite/cleanroom-base/alpine:latest@" + FakeImageService.DigestOf("ghcr.io/buildkite/cleanroom-base/alpine:latest");
        Assert.Equal(
            Encoding.UTF8.GetBytes(original.Replace("ref:   #", $"ref: {pinned}   #", StringComparison.Ordinal)),
            await File.ReadAllBytesAsync(PolicyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(PolicyPath));
        using var json = JsonDocument.Parse(cli.Out);
        Assert.Equal(PolicyPath, json.RootElement.GetProperty("policy").GetString());
        Assert.Equal("ghcr.io/buildkite/cleanroom-base/alpine:latest", json.RootElement.GetProperty("source").GetString());
        Assert.Equal(pinned, json.RootElement.GetProperty("ref").GetString());
    }

    [Fact]
    public async Task A_daemon_error_leaves_the_file_untouched()
    {
        const string Policy = "version: 1\nsandbox:\n  image:\n    ref: alpine:3.20\n  network:\n    default: deny\n";
        await File.WriteAllTextAsync(PolicyPath, Policy);

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("image", "bump-ref", "missing-bump:1", "-c", _repository));

        Assert.Equal("cleanroom: image_not_found: manifest unknown: missing-bump:1\n", cli.Err);
        Assert.Equal("", cli.Out);
        Assert.Equal(Policy, await File.ReadAllTextAsync(PolicyPath));
        Assert.Equal([PolicyPath], Directory.GetFiles(_repository, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_policy_without_an_image_ref_is_a_usage_error_naming_the_file()
    {
        const string Policy = "version: 1\nsandbox:\n  network:\n    default: deny\n";
        await File.WriteAllTextAsync(PolicyPath, Policy);

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await cli.RunAsync("image", "bump-ref", "alpine:3.20", "-c", _repository));

        Assert.Equal($"cleanroom: {PolicyPath}: there is no sandbox.image.ref to bump; add `ref: IMAGE` under sandbox.image first\n", cli.Err);
        Assert.Equal(Policy, await File.ReadAllTextAsync(PolicyPath));
    }

    [Fact]
    public async Task A_result_that_would_not_compile_is_not_written()
    {
        const string Policy = "version: 1\nsandbox:\n  image:\n    ref: alpine:3.19\n  network:\n    default: deny\n  colour: blue\n";
        await File.WriteAllTextAsync(PolicyPath, Policy);

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await cli.RunAsync("image", "bump-ref", "alpine:3.20", "-c", _repository));

        Assert.Equal(Policy, await File.ReadAllTextAsync(PolicyPath));
        Assert.StartsWith($"cleanroom: {PolicyPath} was left unchanged: the policy with the new ref does not validate:\n", cli.Err, StringComparison.Ordinal);
        // The errors point at the user's file, not at the temporary copy that was checked.
        Assert.Contains("cleanroom.yaml:7:3: error: sandbox.colour", cli.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp", cli.Err, StringComparison.Ordinal);
        Assert.Equal([PolicyPath], Directory.GetFiles(_repository));
    }

    [Fact]
    public async Task Without_a_policy_file_it_says_so_and_exits_2()
    {
        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await cli.RunAsync("image", "bump-ref", "-c", _repository));
        Assert.StartsWith($"cleanroom: no cleanroom.yaml or .buildkite/cleanroom.yaml in {_repository}", cli.Err, StringComparison.Ordinal);
    }
}
