using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cleanroom.Escaping;
using Cleanroom.Policy;

namespace Cleanroom.Gateway.Credentials;

/// <summary>
/// Host-side upstream credentials, read once from the credentials file:
/// <c>{"hosts": {"git.example.test": {"token": "…"}, "other.test": {"username": "u", "password": "p"}}}</c>.
/// A token becomes <c>Authorization: Bearer</c>, a username and password <c>Authorization: Basic</c>. Guests never
/// see them: the gateway adds them to upstream requests for exactly the host they are listed under.
/// </summary>
public sealed class GatewayCredentials
{
    /// <summary>Largest credentials file accepted.</summary>
    public const long MaxFileBytes = 1 << 20;

    /// <summary>The scope of objects fetched without credentials.</summary>
    public const string PublicScope = "public";

    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly Dictionary<string, GatewayCredential> _byHost;

    private GatewayCredentials(Dictionary<string, GatewayCredential> byHost)
    {
        _byHost = byHost;
    }

    /// <summary>No credentials at all.</summary>
    public static GatewayCredentials None { get; } = new(new Dictionary<string, GatewayCredential>(StringComparer.Ordinal));

    /// <summary>How many hosts have a credential.</summary>
    public int Count => _byHost.Count;

    /// <summary>The credential for a normalised host name, or null.</summary>
    public GatewayCredential? For(string host) => _byHost.GetValueOrDefault(host);

    /// <summary>
    /// Reads and checks the file: a regular file (not a symlink), readable by its owner only, at most
    /// <see cref="MaxFileBytes"/>, with only the keys above and valid host names.
    /// </summary>
    /// <exception cref="CredentialsFileException">The file is missing, unsafe or malformed.</exception>
    public static GatewayCredentials Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var shown = UntrustedText.Quote(path);
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            throw new CredentialsFileException($"the gateway credentials file {shown} is a symbolic link; give the real file");
        }

        if (!info.Exists)
        {
            throw new CredentialsFileException(Directory.Exists(path)
                ? $"the gateway credentials file {shown} is a directory, not a regular file"
                : $"the gateway credentials file {shown} does not exist");
        }

        if (!OperatingSystem.IsWindows() && (info.UnixFileMode & GroupOrOther) != 0)
        {
            throw new CredentialsFileException(
                $"the gateway credentials file {shown} is accessible by group or others (mode {Convert.ToString((int)info.UnixFileMode, 8)}); chmod 600 it");
        }

        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Options = FileOptions.None });
            if (stream.Length > MaxFileBytes)
            {
                throw new CredentialsFileException($"the gateway credentials file {shown} is larger than {MaxFileBytes} bytes");
            }

            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CredentialsFileException($"the gateway credentials file {shown} cannot be read: {ex.Message}", ex);
        }

        return Parse(bytes, shown);
    }

    /// <summary>Parses the file's JSON (see <see cref="Load"/>); <paramref name="source"/> names it in errors.</summary>
    internal static GatewayCredentials Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            // The message of a JSON error can quote the text around it, which may be a secret: give only the position.
            throw new CredentialsFileException($"the gateway credentials file {source} is not valid JSON (line {ex.LineNumber + 1})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CredentialsFileException($"the gateway credentials file {source} must hold a JSON object");
            }

            var byHost = new Dictionary<string, GatewayCredential>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name != "hosts")
                {
                    throw new CredentialsFileException($"the gateway credentials file {source} has an unknown key {UntrustedText.Quote(property.Name)} (only \"hosts\")");
                }

                if (property.Value.ValueKind != JsonValueKind.Object)
                {
                    throw new CredentialsFileException($"in the gateway credentials file {source}, \"hosts\" must be an object");
                }

                foreach (var host in property.Value.EnumerateObject())
                {
                    var credential = ParseHost(host, source);
                    if (!byHost.TryAdd(credential.Host, credential))
                    {
                        throw new CredentialsFileException($"the gateway credentials file {source} lists host {credential.Host} twice");
                    }
                }
            }

            return new GatewayCredentials(byHost);
        }
    }

    private static GatewayCredential ParseHost(JsonProperty host, string source)
    {
        if (!HostNames.TryNormalize(host.Name, out var name, out var problem) || host.Name != host.Name.Trim())
        {
            throw new CredentialsFileException(
                $"the gateway credentials file {source} has a bad host name {UntrustedText.Quote(host.Name)}: {(problem.Length > 0 ? problem : "surrounding spaces")}");
        }

        if (host.Value.ValueKind != JsonValueKind.Object)
        {
            throw new CredentialsFileException($"in the gateway credentials file {source}, host {name} must map to an object");
        }

        string? token = null, username = null, password = null;
        foreach (var field in host.Value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "token":
                    token = SecretText(field, name, source);
                    break;
                case "username":
                    username = SecretText(field, name, source);
                    break;
                case "password":
                    password = SecretText(field, name, source);
                    break;
                default:
                    throw new CredentialsFileException(
                        $"in the gateway credentials file {source}, host {name} has an unknown key {UntrustedText.Quote(field.Name)} (token, or username and password)");
            }
        }

        string authorization;
        if (token is not null && username is null && password is null)
        {
            authorization = "Bearer " + token;
        }
        else if (token is null && username is not null && password is not null)
        {
            if (username.Contains(':', StringComparison.Ordinal))
            {
                throw new CredentialsFileException($"in the gateway credentials file {source}, the username for host {name} contains ':'");
            }

            authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password));
        }
        else
        {
            throw new CredentialsFileException(
                $"in the gateway credentials file {source}, host {name} needs either \"token\" or both \"username\" and \"password\"");
        }

        return new GatewayCredential(name, authorization, Fingerprint(name, authorization));
    }

    private static string SecretText(JsonProperty field, string host, string source)
    {
        if (field.Value.ValueKind != JsonValueKind.String || field.Value.GetString() is not { Length: > 0 and <= 8192 } value)
        {
            throw new CredentialsFileException(
                $"in the gateway credentials file {source}, \"{field.Name}\" for host {host} must be a non-empty string of at most 8192 characters");
        }

        // A header value cannot carry control characters (CR LF would split the request) or non-ASCII text.
        if (value.Any(c => c is < ' ' or > '~'))
        {
            throw new CredentialsFileException(
                $"in the gateway credentials file {source}, \"{field.Name}\" for host {host} holds control or non-ASCII characters");
        }

        return value;
    }

    private static string Fingerprint(string host, string authorization)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(host + "\n" + authorization));
        return "cred-" + Convert.ToHexStringLower(hash)[..16];
    }
}
