using System.Runtime.Versioning;
using Cleanroom.Cli.Tests.FakeDaemon;

namespace Cleanroom.Cli.Tests;

/// <summary>
/// Every command that reads the repository's policy refuses one that is not a regular file inside the repository,
/// at once and without printing any of what it points to.
/// </summary>
[Collection(FakeDaemonGroup.Name)]
[UnsupportedOSPlatform("windows")]
public sealed class UntrustedPolicyFileTests(FakeCleanroomDaemon daemon) : IDisposable
{
    private const string Token = "ghp_s3cr3tT0k3nThatMustNeverBePrinted";
    private const string Refusal = "cleanroom.yaml is a symbolic link; the policy must be a regular file inside the repository";

    // The refusal is immediate; the bound only keeps a regression that blocks from hanging the run.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly string _repository = Directory.CreateTempSubdirectory("cleanroom-untrusted-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("cleanroom-outside-").FullName;

    private string PolicyPath => Path.Join(_repository, "cleanroom.yaml");

    public void Dispose()
    {
        Directory.Delete(_repository, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("validate", "--json")]
    [InlineData("show")]
    [InlineData("show", "--json")]
    public async Task Policy_commands_refuse_a_link_to_a_secret_without_printing_it(params string[] command)
    {
        LinkPolicyToSecret();

        using var cli = new CliHarness();
        Assert.Equal(1, await RunAsync(cli, ["policy", .. command, "-c", _repository]));

        Assert.Contains(Refusal, cli.Out + cli.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, cli.Out + cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_explicit_policy_that_is_a_link_is_refused_as_invalid_not_as_missing()
    {
        LinkPolicyToSecret();

        using var cli = new CliHarness();
        Assert.Equal(1, await RunAsync(cli, ["policy", "validate", "-c", _repository, "--policy", "cleanroom.yaml"]));

        Assert.Contains(Refusal, cli.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, cli.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_fifo_or_a_link_to_one_fails_fast(bool linked)
    {
        var fifo = Fifo.Make(linked ? Path.Join(_outside, "pipe") : PolicyPath);
        if (linked)
        {
            File.CreateSymbolicLink(PolicyPath, fifo);
        }

        using var cli = new CliHarness();
        Assert.Equal(1, await RunAsync(cli, ["policy", "validate", "-c", _repository]));

        Assert.Contains(linked ? Refusal : "cleanroom.yaml is a named pipe (FIFO)", cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_buildkite_directory_linked_elsewhere_is_refused()
    {
        await File.WriteAllTextAsync(Path.Join(_outside, "cleanroom.yaml"), $"version: 1\nsandbox: {{image: {{ref: \"{Token}\"}}}}\n");
        File.CreateSymbolicLink(Path.Join(_repository, ".buildkite"), _outside);

        using var cli = new CliHarness();
        Assert.Equal(1, await RunAsync(cli, ["policy", "show", "-c", _repository]));

        Assert.Contains(".buildkite is a symbolic link; the policy must be a regular file inside the repository", cli.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, cli.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_refuses_the_policy_before_creating_a_sandbox()
    {
        LinkPolicyToSecret();
        var creates = daemon.State.CreateRequests.Count;

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(1, await RunAsync(cli, ["exec", "-c", _repository, "--", "true"]));

        Assert.Contains(Refusal, cli.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, cli.Err, StringComparison.Ordinal);
        Assert.Equal(creates, daemon.State.CreateRequests.Count);
    }

    [Fact]
    public async Task Bump_ref_refuses_a_linked_policy_and_changes_neither_the_link_nor_its_target()
    {
        var target = Path.Join(_outside, "shared.yaml");
        const string Policy = "version: 1\nsandbox:\n  image:\n    ref: alpine:3.19\n  network:\n    default: deny\n";
        await File.WriteAllTextAsync(target, Policy);
        File.CreateSymbolicLink(PolicyPath, target);

        using var cli = new CliHarness(daemon.Endpoint);
        Assert.Equal(2, await RunAsync(cli, ["image", "bump-ref", "alpine:3.21", "-c", _repository]));

        Assert.Equal($"cleanroom: {PolicyPath}: {Refusal}\n", cli.Err);
        Assert.Equal(target, new FileInfo(PolicyPath).LinkTarget);
        Assert.Equal(Policy, await File.ReadAllTextAsync(target));
        Assert.Equal([PolicyPath], Directory.GetFileSystemEntries(_repository));
    }

    private void LinkPolicyToSecret()
    {
        var secret = Path.Join(_outside, ".git-credentials");
        File.WriteAllText(secret, $"https://ci:{Token}@github.com\n");
        File.CreateSymbolicLink(PolicyPath, secret);
    }

    private static Task<int> RunAsync(CliHarness cli, string[] args) => cli.RunAsync(args).WaitAsync(Bound);
}
