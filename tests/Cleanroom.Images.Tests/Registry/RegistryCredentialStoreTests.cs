using System.Text;
using Cleanroom.Images.Registry;
using Cleanroom.TestSupport;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Images.Tests.Registry;

/// <summary>Reading credentials from Docker config files, including the broken ones people have.</summary>
public sealed class RegistryCredentialStoreTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Auth_username_password_and_identity_token_entries_are_read()
    {
        var store = Load($$"""
            {
              "auths": {
                "https://index.docker.io/v1/": { "auth": "{{Base64("hubuser:hub:pass")}}" },
                "ghcr.io": { "username": "gh", "password": "ghp_x" },
                "https://registry.example.com:8443": { "identitytoken": "refresh-me" },
                "quay.io": {}
              },
              "HttpHeaders": { "X-Meta": "ignored" }
            }
            """);

        Assert.Equal(new RegistryCredential("hubuser", "hub:pass"), store.Find("docker.io"));
        Assert.Equal(new RegistryCredential("hubuser", "hub:pass"), store.Find("index.docker.io"));
        Assert.Equal(new RegistryCredential("gh", "ghp_x"), store.Find("GHCR.io"));
        Assert.Equal("refresh-me", store.Find("registry.example.com:8443")?.IdentityToken);
        Assert.Null(store.Find("quay.io"));
        Assert.Null(store.Find("registry.example.com"));
        Assert.Empty(store.Warnings);
    }

    [Fact]
    public void A_malformed_file_gives_no_credentials_and_a_warning_the_client_logs()
    {
        var path = _directory.WriteFile("config.json", "{ \"auths\": { \"ghcr.io\": ");
        var store = RegistryCredentialStore.FromDockerConfig(path);
        var logger = new RecordingLogger();

        using var client = new RegistryClient(new RegistryClientOptions { Credentials = store }, logger);

        Assert.Empty(store.Registries);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(path, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_entry_is_skipped_with_a_warning_and_the_rest_is_used()
    {
        var store = Load($$"""
            { "auths": {
                "bad.example": { "auth": "not base64!" },
                "nocolon.example": { "auth": "{{Base64("justauser")}}" },
                "good.example": { "auth": "{{Base64("u:p")}}" } } }
            """);

        Assert.Equal(new RegistryCredential("u", "p"), store.Find("good.example"));
        Assert.Null(store.Find("bad.example"));
        Assert.Null(store.Find("nocolon.example"));
        Assert.Equal(2, store.Warnings.Length);
    }

    [Fact]
    public void Credential_helpers_are_noted_at_debug_and_ignored()
    {
        var store = Load("""{ "credsStore": "desktop", "credHelpers": { "gcr.io": "gcloud" }, "auths": { "gcr.io": {} } }""");
        var logger = new RecordingLogger();

        using var client = new RegistryClient(new RegistryClientOptions { Credentials = store }, logger);

        Assert.Null(store.Find("gcr.io"));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("credential helpers", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public void A_missing_file_is_no_credentials()
    {
        var store = RegistryCredentialStore.FromDockerConfig(_directory.Combine("absent.json"));

        Assert.Empty(store.Registries);
        Assert.Empty(store.Warnings);
    }

    [Fact]
    public void With_adds_or_replaces_one_registry()
    {
        var store = RegistryCredentialStore.Empty
            .With("https://index.docker.io/v1/", new RegistryCredential("a", "1"))
            .With("docker.io", new RegistryCredential("b", "2"));

        Assert.Equal(new RegistryCredential("b", "2"), store.Find("registry-1.docker.io"));
        Assert.Single(store.Registries);
        Assert.Empty(RegistryCredentialStore.Empty.Registries);
    }

    [Fact]
    public void A_credential_never_prints_its_secrets()
    {
        var text = new RegistryCredential("user", "hunter2", "refresh-token").ToString();

        Assert.Contains("user", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("refresh-token", text, StringComparison.Ordinal);
    }

    private RegistryCredentialStore Load(string json) => RegistryCredentialStore.FromDockerConfig(_directory.WriteFile("config.json", json));

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
