using Cleanroom.Images.Registry;
using Cleanroom.Oci;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>Registry names to base URLs, and Docker config keys to registry names. No network.</summary>
public sealed class RegistryHostsTests
{
    [Theory]
    [InlineData("alpine", "https://registry-1.docker.io/")]
    [InlineData("docker.io/library/alpine:3.20", "https://registry-1.docker.io/")]
    [InlineData("index.docker.io/library/alpine", "https://registry-1.docker.io/")]
    [InlineData("ghcr.io/o/r:v1", "https://ghcr.io/")]
    [InlineData("registry.example.com:8443/o/r", "https://registry.example.com:8443/")]
    [InlineData("127.0.0.1:5000/o/r", "http://127.0.0.1:5000/")]
    [InlineData("127.9.8.7/o/r", "http://127.9.8.7/")]
    [InlineData("localhost:5000/o/r", "http://localhost:5000/")]
    [InlineData("localhost/o/r", "http://localhost/")]
    public void The_base_url_follows_the_reference(string reference, string expected)
    {
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = RegistryCredentialStore.Empty });

        Assert.Equal(new Uri(expected), client.BaseUriFor(ImageReference.Parse(reference).Registry));
    }

    [Fact]
    public void A_base_url_override_wins_for_every_spelling_of_its_registry_and_only_for_it()
    {
        var overrides = new Dictionary<string, Uri>(StringComparer.Ordinal)
        {
            ["registry-1.docker.io"] = new("http://127.0.0.1:5000"),
            ["ghcr.io"] = new("https://mirror.internal/ghcr/"),
        };
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = RegistryCredentialStore.Empty, BaseUris = overrides });

        Assert.Equal(new Uri("http://127.0.0.1:5000/"), client.BaseUriFor("docker.io"));
        Assert.Equal(new Uri("http://127.0.0.1:5000/"), client.BaseUriFor("index.docker.io"));
        Assert.Equal(new Uri("https://mirror.internal/ghcr/"), client.BaseUriFor("GHCR.io"));
        Assert.Equal(new Uri("https://quay.io/"), client.BaseUriFor("quay.io"));
    }

    [Fact]
    public void Ipv6_loopback_is_plain_http()
    {
        Assert.Equal(new Uri("http://[::1]:5000/"), RegistryHosts.BaseUri("[::1]:5000", []));
        Assert.True(RegistryHosts.IsLoopback("[::1]"));
    }

    [Fact]
    public void Listed_registries_are_plain_http_and_only_those()
    {
        IReadOnlyList<string> plain = ["build-cache.internal:5000", "http://mirror.lan/"];

        Assert.Equal(new Uri("http://build-cache.internal:5000/"), RegistryHosts.BaseUri("build-cache.internal:5000", plain));
        Assert.Equal(new Uri("http://mirror.lan/"), RegistryHosts.BaseUri("mirror.lan", plain));
        Assert.Equal(new Uri("https://build-cache.internal:5001/"), RegistryHosts.BaseUri("build-cache.internal:5001", plain));
        Assert.Equal(new Uri("https://mirror.lan:8080/"), RegistryHosts.BaseUri("mirror.lan:8080", plain));
    }

    [Theory]
    [InlineData("https://index.docker.io/v1/", "docker.io")]
    [InlineData("index.docker.io", "docker.io")]
    [InlineData("registry-1.docker.io", "docker.io")]
    [InlineData("docker.io", "docker.io")]
    [InlineData("https://ghcr.io", "ghcr.io")]
    [InlineData("http://127.0.0.1:5000/v2/", "127.0.0.1:5000")]
    [InlineData("Registry.Example.com:443", "registry.example.com:443")]
    public void Config_keys_are_normalised_to_registry_names(string key, string expected) =>
        Assert.Equal(expected, RegistryHosts.Canonical(key));
}
