using System.Collections.Immutable;
using System.Text;
using System.Text.Json;

namespace Cleanroom.Images.Registry;

/// <summary>
/// Registry credentials by registry name, immutable. Usually read from a Docker client config file, so that
/// <c>docker login</c> is how a user gives cleanroom access to a private registry.
/// </summary>
public sealed class RegistryCredentialStore
{
    /// <summary>A Docker config is a few KiB; anything this big is not one, and is not read into memory.</summary>
    private const long MaxConfigBytes = 1024 * 1024;

    private readonly ImmutableDictionary<string, RegistryCredential> _byRegistry;

    private RegistryCredentialStore(ImmutableDictionary<string, RegistryCredential> byRegistry, string? source, ImmutableArray<string> warnings, ImmutableArray<string> notes)
    {
        _byRegistry = byRegistry;
        Source = source;
        Warnings = warnings;
        Notes = notes;
    }

    /// <summary>No credentials: every registry is spoken to anonymously.</summary>
    public static RegistryCredentialStore Empty { get; } = new(ImmutableDictionary<string, RegistryCredential>.Empty, null, [], []);

    /// <summary>The file the credentials came from, when they came from one.</summary>
    public string? Source { get; }

    /// <summary>
    /// Problems met while reading the file (unreadable, malformed, a bad entry). Reading never throws: a broken Docker
    /// config must not stop pulls of public images. The client logs these as warnings.
    /// </summary>
    internal ImmutableArray<string> Warnings { get; }

    /// <summary>
    /// The same problems, for a caller that named the file explicitly and must refuse a broken one rather than carry
    /// on anonymously (the gateway's <c>--gateway-registry-auth</c>).
    /// </summary>
    public IReadOnlyList<string> Problems => Warnings;

    /// <summary>Things in the file that are deliberately ignored (credential helpers); the client logs them at debug.</summary>
    internal ImmutableArray<string> Notes { get; }

    /// <summary>The registries that have credentials, by canonical name.</summary>
    public IEnumerable<string> Registries => _byRegistry.Keys;

    /// <summary>
    /// Reads <paramref name="path"/>, or else <c>$DOCKER_CONFIG/config.json</c>, or else <c>~/.docker/config.json</c>.
    /// A missing file gives <see cref="Empty"/>; a malformed one gives an empty store that carries a warning.
    /// </summary>
    public static RegistryCredentialStore FromDockerConfig(string? path = null)
    {
        path ??= DefaultConfigPath();
        if (path is null || !File.Exists(path))
        {
            return Empty;
        }

        byte[] bytes;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxConfigBytes)
            {
                return Broken(path, $"it is {length} bytes, more than a Docker config can sensibly be ({MaxConfigBytes})");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Broken(path, ex.Message);
        }

        DockerConfigFile? config;
        try
        {
            config = JsonSerializer.Deserialize(bytes, RegistryJsonContext.Default.DockerConfigFile);
        }
        catch (JsonException ex)
        {
            return Broken(path, ex.Message);
        }

        return FromParsed(config ?? new DockerConfigFile(), path);
    }

    /// <summary>The credential for <paramref name="registry"/> (any spelling a Docker config or a reference uses), if any.</summary>
    public RegistryCredential? Find(string registry) =>
        _byRegistry.TryGetValue(RegistryHosts.Canonical(registry), out var credential) ? credential : null;

    /// <summary>A store with <paramref name="credential"/> for <paramref name="registry"/> added or replaced.</summary>
    public RegistryCredentialStore With(string registry, RegistryCredential credential) =>
        new(_byRegistry.SetItem(RegistryHosts.Canonical(registry), credential), Source, Warnings, Notes);

    private static RegistryCredentialStore FromParsed(DockerConfigFile config, string path)
    {
        var warnings = ImmutableArray.CreateBuilder<string>();
        var notes = ImmutableArray.CreateBuilder<string>();
        if (!string.IsNullOrEmpty(config.CredsStore) || config.CredHelpers is { Count: > 0 })
        {
            notes.Add($"{path} names credential helpers (credsStore/credHelpers); cleanroom does not run them, so only its \"auths\" entries are used");
        }

        var byRegistry = ImmutableDictionary.CreateBuilder<string, RegistryCredential>(StringComparer.Ordinal);
        foreach (var (key, entry) in config.Auths ?? [])
        {
            var registry = RegistryHosts.Canonical(key);
            if (registry.Length == 0 || entry is null)
            {
                continue;
            }

            var credential = ToCredential(entry, out var problem);
            if (problem is not null)
            {
                warnings.Add($"{path}: the entry for '{key}' is ignored: {problem}");
                continue;
            }

            if (credential is not null)
            {
                // Docker Hub's legacy key wins over its aliases: it is the one `docker login` keeps current.
                if (!byRegistry.ContainsKey(registry) || key == RegistryHosts.DockerHubConfigKey)
                {
                    byRegistry[registry] = credential;
                }
            }
        }

        return new RegistryCredentialStore(byRegistry.ToImmutable(), path, warnings.ToImmutable(), notes.ToImmutable());
    }

    private static RegistryCredential? ToCredential(DockerConfigAuth entry, out string? problem)
    {
        problem = null;
        string? username = entry.Username;
        string? password = entry.Password;
        if (!string.IsNullOrEmpty(entry.Auth))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(entry.Auth));
            }
            catch (FormatException)
            {
                problem = "\"auth\" is not base64";
                return null;
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                problem = "\"auth\" does not decode to user:password";
                return null;
            }

            username = decoded[..colon];
            password = decoded[(colon + 1)..];
        }

        var identityToken = string.IsNullOrEmpty(entry.IdentityToken) ? null : entry.IdentityToken;
        if (string.IsNullOrEmpty(username) && identityToken is null)
        {
            // `docker logout` leaves "host": {} behind; that is no credential, not an error.
            return null;
        }

        return new RegistryCredential(username, password, identityToken);
    }

    private static RegistryCredentialStore Broken(string path, string reason) =>
        new(ImmutableDictionary<string, RegistryCredential>.Empty, path, [$"ignoring the Docker config {path}: {reason}"], []);

    private static string? DefaultConfigPath()
    {
        var directory = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(directory))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
            {
                return null;
            }

            directory = Path.Combine(home, ".docker");
        }

        return Path.Combine(directory, "config.json");
    }
}
