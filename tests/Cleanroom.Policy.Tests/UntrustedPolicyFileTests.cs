using System.Runtime.Versioning;

namespace Cleanroom.Policy.Tests;

/// <summary>
/// The policy file comes from the repository, which a pull request controls: anything but a regular file inside
/// the repository is refused before it is read, with an error that names it and shows none of its content.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class UntrustedPolicyFileTests : IDisposable
{
    private const string Token = "ghp_s3cr3tT0k3nThatMustNeverBePrinted";

    // Refusals happen before any read, so they are immediate; this bounds a regression that would block instead.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private readonly TemporaryDirectory _repo = new();
    private readonly TemporaryDirectory _outside = new();

    public void Dispose()
    {
        _repo.Dispose();
        _outside.Dispose();
    }

    [Fact]
    public async Task A_link_to_a_secret_is_refused_without_showing_the_secret()
    {
        var secret = _outside.Write(".git-credentials", $"https://ci:{Token}@github.com\n");
        File.CreateSymbolicLink(Path.Combine(_repo.Path, "cleanroom.yaml"), secret);

        var error = await SingleErrorAsync(PolicyErrorKind.NotARegularFile);

        Assert.Equal("cleanroom.yaml is a symbolic link; the policy must be a regular file inside the repository", error.Message);
        Assert.DoesNotContain(Token, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("github.com", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_to_a_policy_inside_the_repository_is_refused_too()
    {
        _repo.Write("policies/shared.yaml", TestPolicies.WithSandbox());
        File.CreateSymbolicLink(Path.Combine(_repo.Path, "cleanroom.yaml"), "policies/shared.yaml");

        Assert.Contains("is a symbolic link", (await SingleErrorAsync(PolicyErrorKind.NotARegularFile)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dangling_link_is_named_as_a_link_not_as_a_missing_policy()
    {
        File.CreateSymbolicLink(Path.Combine(_repo.Path, "cleanroom.yaml"), "/nonexistent/cleanroom.yaml");

        Assert.Contains("cleanroom.yaml is a symbolic link", (await SingleErrorAsync(PolicyErrorKind.NotARegularFile)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_to_a_fifo_fails_at_once_instead_of_waiting_for_a_writer()
    {
        var fifo = Path.Combine(_outside.Path, "pipe");
        SpecialFiles.MakeFifo(fifo);
        File.CreateSymbolicLink(Path.Combine(_repo.Path, "cleanroom.yaml"), fifo);

        Assert.Contains("cleanroom.yaml is a symbolic link", (await SingleErrorAsync(PolicyErrorKind.NotARegularFile)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fifo_is_refused_without_being_opened_for_a_read()
    {
        SpecialFiles.MakeFifo(Path.Combine(_repo.Path, "cleanroom.yaml"));

        Assert.Equal(
            "cleanroom.yaml is a named pipe (FIFO); the policy must be a regular file inside the repository",
            (await SingleErrorAsync(PolicyErrorKind.NotARegularFile)).Message);
    }

    [Fact]
    public async Task A_socket_is_refused()
    {
        using var socket = SpecialFiles.MakeSocket(Path.Combine(_repo.Path, "cleanroom.yaml"));

        Assert.StartsWith("cleanroom.yaml is a socket;", (await SingleErrorAsync(PolicyErrorKind.NotARegularFile)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_directory_named_like_the_policy_is_refused()
    {
        Directory.CreateDirectory(Path.Combine(_repo.Path, "cleanroom.yaml"));

        Assert.StartsWith("cleanroom.yaml is a directory;", (await SingleErrorAsync(PolicyErrorKind.NotARegularFile)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_is_refused()
    {
        File.CreateSymbolicLink(Path.Combine(_repo.Path, "cleanroom.yaml"), "/dev/zero");
        Assert.Contains("is a symbolic link", (await SingleErrorAsync(PolicyErrorKind.NotARegularFile)).Message, StringComparison.Ordinal);

        // Named explicitly and outside the repository, only its own kind matters: still not a regular file.
        var result = await LoadAsync(new PolicyLoadOptions { Directory = _repo.Path, PolicyFile = "/dev/zero" });
        var error = Assert.Single(result.Errors);
        Assert.Equal("/dev/zero is a character device; the policy must be a regular file", error.Message);
    }

    [Fact]
    public async Task A_buildkite_directory_linked_outside_the_repository_is_refused()
    {
        _outside.Write("cleanroom.yaml", TestPolicies.WithSandbox());
        File.CreateSymbolicLink(Path.Combine(_repo.Path, ".buildkite"), _outside.Path);

        var error = await SingleErrorAsync(PolicyErrorKind.NotARegularFile);

        Assert.Equal(".buildkite is a symbolic link; the policy must be a regular file inside the repository", error.Message);
    }

    [Fact]
    public async Task A_linked_directory_on_an_explicit_path_inside_the_repository_is_refused()
    {
        _outside.Write("policy.yaml", TestPolicies.WithSandbox());
        File.CreateSymbolicLink(Path.Combine(_repo.Path, "ci"), _outside.Path);

        var result = await LoadAsync(new PolicyLoadOptions { Directory = _repo.Path, PolicyFile = "ci/policy.yaml" });

        Assert.Equal("ci is a symbolic link; the policy must be a regular file inside the repository", Assert.Single(result.Errors).Message);
    }

    [Fact]
    public async Task An_explicit_regular_file_outside_the_repository_is_read()
    {
        var policy = _outside.Write("ci.yaml", TestPolicies.WithSandbox());

        var result = await LoadAsync(new PolicyLoadOptions { Directory = _repo.Path, PolicyFile = policy });

        Assert.True(result.IsValid, string.Join('\n', result.Diagnostics));
    }

    [Fact]
    public async Task An_oversized_file_is_refused_from_its_size_without_reading_it()
    {
        // Sparse: 4 GiB on paper, nothing on disk. Reading it would take far longer than the bound.
        using (var file = File.Create(Path.Combine(_repo.Path, "cleanroom.yaml")))
        {
            file.SetLength(4L << 30);
        }

        var error = await SingleErrorAsync(PolicyErrorKind.FileTooLarge);

        Assert.Equal($"the policy is {4L << 30} bytes; policies are limited to 1 MiB", error.Message);
    }

    [Fact]
    public void The_reader_returns_a_regular_file_byte_for_byte()
    {
        var bytes = "\uFEFFversion: 1\r\n"u8.ToArray();
        File.WriteAllBytes(Path.Combine(_repo.Path, "cleanroom.yaml"), bytes);

        Assert.Equal(bytes, PolicyFileReader.Read(Path.Combine(_repo.Path, "cleanroom.yaml"), _repo.Path, out var error));
        Assert.Null(error);
    }

    private async Task<PolicyDiagnostic> SingleErrorAsync(PolicyErrorKind kind)
    {
        var result = await LoadAsync(new PolicyLoadOptions { Directory = _repo.Path });
        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal(kind, error.Kind);
        return error;
    }

    private static Task<PolicyLoadResult> LoadAsync(PolicyLoadOptions options) =>
        Task.Run(() => PolicyLoader.Load(options)).WaitAsync(Bound);
}
