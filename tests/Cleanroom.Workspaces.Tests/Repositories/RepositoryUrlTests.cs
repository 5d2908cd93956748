using Cleanroom.Workspaces.Repositories;

namespace Cleanroom.Workspaces.Tests.Repositories;

/// <summary>Which spellings share a mirror, what git is given, and what is refused before git ever runs.</summary>
public sealed class RepositoryUrlTests
{
    [Theory]
    [InlineData("https://github.com/org/repo", "https://github.com/org/repo", "https://github.com/org/repo")]
    [InlineData("HTTPS://GitHub.COM/org/repo.git", "https://github.com/org/repo.git", "https://github.com/org/repo")]
    [InlineData("https://github.com:443/org/repo/", "https://github.com/org/repo/", "https://github.com/org/repo")]
    [InlineData("https://github.com/org/repo.git/", "https://github.com/org/repo.git/", "https://github.com/org/repo")]
    [InlineData("https://host:8443/Org/Repo", "https://host:8443/Org/Repo", "https://host:8443/Org/Repo")]
    [InlineData("http://host:80/x", "http://host/x", "http://host/x")]
    [InlineData("http://[::1]:8080/x.git", "http://[::1]:8080/x.git", "http://[::1]:8080/x")]
    [InlineData("ssh://git@Host.example:22/org/repo.git", "ssh://git@host.example/org/repo.git", "ssh://git@host.example/org/repo")]
    [InlineData("git+ssh://git@host/org/repo", "ssh://git@host/org/repo", "ssh://git@host/org/repo")]
    [InlineData("ssh://host:2222/~/repo", "ssh://host:2222/~/repo", "ssh://host:2222/~/repo")]
    [InlineData("git@GitHub.com:org/repo.git", "git@github.com:org/repo.git", "git@github.com:org/repo")]
    [InlineData("host:repo", "host:repo", "host:repo")]
    [InlineData("git://host:9418/repo.git", "git://host/repo.git", "git://host/repo")]
    [InlineData("file:///srv/git/repo.git", "/srv/git/repo.git", "file:///srv/git/repo")]
    [InlineData("file://localhost/srv/git/repo", "/srv/git/repo", "file:///srv/git/repo")]
    [InlineData("/srv/git/../git/repo.git/", "/srv/git/repo.git/", "file:///srv/git/repo")]
    public void Normalises(string input, string fetchUrl, string normalized)
    {
        var url = RepositoryUrl.Parse(input);

        Assert.Equal(fetchUrl, url.FetchUrl);
        Assert.Equal(normalized, url.Normalized);
        Assert.Matches("^[0-9a-f]{32}$", url.Key);
    }

    [Theory]
    [InlineData("https://GitHub.com/org/repo", "github.com", 443)]
    [InlineData("https://host:8443/x", "host", 8443)]
    [InlineData("http://[::1]:8080/x.git", "::1", 8080)]
    [InlineData("ssh://git@host.example/org/repo", "host.example", 22)]
    [InlineData("git@GitHub.com:org/repo.git", "github.com", 22)]
    [InlineData("git://host/repo", "host", 9418)]
    [InlineData("/srv/git/repo", null, 0)]
    public void Names_the_destination_git_connects_to(string input, string? host, int port)
    {
        var url = RepositoryUrl.Parse(input);

        Assert.Equal(host, url.Host);
        Assert.Equal(port, url.Port);
    }

    [Fact]
    public void Spellings_of_one_repository_share_a_key_and_others_do_not()
    {
        var key = RepositoryUrl.Parse("https://github.com/org/repo").Key;

        Assert.Equal(key, RepositoryUrl.Parse("HTTPS://github.com:443/org/repo.git/").Key);
        Assert.NotEqual(key, RepositoryUrl.Parse("https://github.com/org/Repo").Key);
        Assert.NotEqual(key, RepositoryUrl.Parse("http://github.com/org/repo").Key);
        Assert.NotEqual(key, RepositoryUrl.Parse("https://github.com/org/repo2").Key);
    }

    [Theory]
    [InlineData("https://user:s3cret-pw@github.com/org/repo", "password")]
    [InlineData("https://ghp_s3cret-pw@github.com/org/repo", "user information")]
    [InlineData("ssh://git:s3cret-pw@host/repo", "password")]
    [InlineData("ext::sh -c touch% /tmp/pwned", "whitespace")]
    [InlineData("ext::ssh-evil", "remote helpers")]
    [InlineData("fd::17", "remote helpers")]
    [InlineData("-uhttps://host/repo", "option")]
    [InlineData("--upload-pack=touch /tmp/pwned", "whitespace")]
    [InlineData("--upload-pack=evil", "option")]
    [InlineData("ssh://-oProxyCommand=evil/repo", "host name")]
    [InlineData("-oProxyCommand=evil:repo", "option")]
    [InlineData("https://host/re\npo", "control")]
    [InlineData("https://host/re%0apo", "control")]
    [InlineData("https://host/re%00po", "control")]
    [InlineData("ftp://host/repo", "scheme")]
    [InlineData("relative/path", "neither")]
    [InlineData("https://host", "no repository path")]
    [InlineData("https://host/.git", "no repository path")]
    [InlineData("file://otherhost/repo", "absolute path")]
    [InlineData("https://host:99999/repo", "port")]
    [InlineData("", "characters long")]
    public void Refuses(string input, string reason)
    {
        var error = Assert.Throws<RepositoryException>(() => RepositoryUrl.Parse(input));

        Assert.Equal(RepositoryErrorKind.InvalidUrl, error.Kind);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
