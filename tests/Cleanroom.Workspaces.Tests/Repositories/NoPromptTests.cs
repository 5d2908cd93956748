using Cleanroom.Workspaces.Repositories;

namespace Cleanroom.Workspaces.Tests.Repositories;

/// <summary>git in the store never asks anyone for anything, and what it prints is scrubbed before it is shown.</summary>
public sealed class NoPromptTests : IAsyncLifetime
{
    private const string Token = "cr-prompt-token-93ab71";

    private readonly Scratch _scratch = new("cr-repo-prompt");
    private GitHttpServer _server = null!;

    public async Task InitializeAsync()
    {
        var root = Directory.CreateDirectory(_scratch.Combine("served")).FullName;
        await Upstream.CreateAsync(root, "project", _scratch.Path);
        _server = GitHttpServer.Start(root, Token);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _scratch.Dispose();
    }

    [Fact]
    public async Task An_askpass_program_configured_on_the_host_is_never_run()
    {
        // Both ways a host may name one (GIT_ASKPASS, core.askPass); either would be a prompt in a daemon, or a
        // program handing out secrets to whatever URL a job names.
        var marker = _scratch.Combine("askpass-ran");
        var askpass = _scratch.Combine("askpass.sh");
        await File.WriteAllTextAsync(askpass, $"#!/bin/sh\ntouch '{marker}'\necho x\n");
        File.SetUnixFileMode(askpass, (UnixFileMode)0b111_000_000);
        var store = new RepositoryStore(new()
        {
            StoreDirectory = _scratch.Combine("store"),
            GitEnvironment = new Dictionary<string, string>
            {
                ["GIT_CONFIG_NOSYSTEM"] = "1",
                ["GIT_CONFIG_GLOBAL"] = "/dev/null",
                ["GIT_ASKPASS"] = askpass,
                ["SSH_ASKPASS"] = askpass,
                ["GIT_TERMINAL_PROMPT"] = "1",
                ["GIT_CONFIG_COUNT"] = "1",
                ["GIT_CONFIG_KEY_0"] = "core.askPass",
                ["GIT_CONFIG_VALUE_0"] = askpass,
            },
        });

        var error = await Assert.ThrowsAsync<RepositoryException>(() => store.EnsureAsync(_server.UrlOf("project.git"), "main", CancellationToken.None));

        Assert.Equal(RepositoryErrorKind.AuthenticationFailed, error.Kind);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Credentials_are_scrubbed_from_git_output()
    {
        var scrubber = new GitOutputScrubber(new Dictionary<string, string>
        {
            ["GIT_CONFIG_COUNT"] = "1",
            ["GIT_CONFIG_KEY_0"] = "http.extraHeader",
            ["GIT_CONFIG_VALUE_0"] = "Authorization: Bearer " + Token,
        });
        var said = string.Join(
            '\n',
            "fatal: unable to access 'https://user:hunter2-pw@host/x.git/': 403",
            "> Authorization: Basic dXNlcjpodW50ZXIy",
            "remote: your token " + Token + " has expired",
            "header: bearer abcdefghijkl",
            "error: setting http.extraHeader failed");

        var scrubbed = scrubber.Scrub(said);

        Assert.DoesNotContain("hunter2-pw", scrubbed, StringComparison.Ordinal);
        Assert.DoesNotContain("dXNlcjpodW50ZXIy", scrubbed, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, scrubbed, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdefghijkl", scrubbed, StringComparison.Ordinal);
        Assert.Contains("https://***@host/x.git/", scrubbed, StringComparison.Ordinal);
        Assert.Contains("setting http.extraHeader failed", scrubbed, StringComparison.Ordinal);
    }
}
