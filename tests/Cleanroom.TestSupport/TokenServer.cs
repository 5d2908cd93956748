using System.Net;
using System.Text;
using System.Text.Json;

namespace Cleanroom.TestSupport;

/// <summary>
/// A Docker token service on 127.0.0.1 for a <see cref="RegistryServer"/> with token auth: <c>GET /token</c> with
/// HTTP Basic (user and password from <see cref="RegistryAuth"/>) or <c>POST /token</c> with an OAuth2
/// <c>refresh_token</c> (the password) or <c>password</c> grant. It grants whatever the requested scopes ask for,
/// and counts what it served so tests can prove the token flow really happened.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    private const int MaxFormBytes = 64 * 1024;

    private readonly LoopbackHttpServer _http;
    private readonly RegistryTokenIssuer _issuer;
    private readonly RegistryAuth _auth;
    private readonly TimeSpan _lifetime;
    private int _tokensIssued;
    private int _refusals;

    private TokenServer(RegistryAuth auth, RegistryTokenIssuer issuer, TimeSpan lifetime)
    {
        _auth = auth;
        _issuer = issuer;
        _lifetime = lifetime;
        _http = LoopbackHttpServer.Start(HandleAsync);
    }

    /// <summary>The URL the registry names as <c>realm</c> in its challenges.</summary>
    public Uri Realm => new(_http.BaseUri, "token");

    public string Service => _issuer.Service;

    public string Issuer => _issuer.Issuer;

    /// <summary>The signing certificate, PEM; the registry's <c>rootcertbundle</c>.</summary>
    public string CertificatePem => _issuer.CertificatePem;

    /// <summary>Requests received (any path, any outcome).</summary>
    public int RequestCount => _http.Requests.Count;

    public int TokensIssued => Volatile.Read(ref _tokensIssued);

    /// <summary>Requests refused for missing or wrong credentials.</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    public IReadOnlyList<RecordedRequest> Requests => _http.Requests;

    /// <summary>When set, requests without credentials get a token too (like Docker Hub for public images).</summary>
    public bool AllowAnonymous { get; set; }

    public static TokenServer Start(RegistryAuth auth, string service = "cleanroom-test-registry", string issuer = "cleanroom-test-token-issuer", TimeSpan? tokenLifetime = null) =>
        new(auth, new RegistryTokenIssuer(issuer, service), tokenLifetime ?? TimeSpan.FromMinutes(5));

    public async ValueTask DisposeAsync()
    {
        await _http.DisposeAsync();
        _issuer.Dispose();
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        if (request.Url?.AbsolutePath != "/token")
        {
            await WriteErrorAsync(context.Response, HttpStatusCode.NotFound, "NOT_FOUND", "the token service answers only /token");
            return;
        }

        string? subject;
        IEnumerable<string> scopes;
        string? service;
        if (request.HttpMethod == "POST")
        {
            var form = await ReadFormAsync(request);
            service = form.GetValueOrDefault("service");
            scopes = form.GetValueOrDefault("scope")?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
            subject = form.GetValueOrDefault("grant_type") switch
            {
                "refresh_token" when form.GetValueOrDefault("refresh_token") == _auth.Password => _auth.Username,
                "password" when form.GetValueOrDefault("username") == _auth.Username && form.GetValueOrDefault("password") == _auth.Password => _auth.Username,
                _ => null,
            };
        }
        else
        {
            service = request.QueryString["service"];
            scopes = request.QueryString.GetValues("scope") ?? [];
            subject = CheckBasic(request.Headers["Authorization"]);
        }

        if (service is not null && service != Service)
        {
            await WriteErrorAsync(context.Response, HttpStatusCode.BadRequest, "INVALID_REQUEST", $"unknown service '{service}'");
            return;
        }

        if (subject is null && !(AllowAnonymous && request.Headers["Authorization"] is null && request.HttpMethod == "GET"))
        {
            Interlocked.Increment(ref _refusals);
            context.Response.AddHeader("WWW-Authenticate", $"Basic realm=\"{Realm}\"");
            await WriteErrorAsync(context.Response, HttpStatusCode.Unauthorized, "UNAUTHORIZED", request.Headers["Authorization"] is null && request.HttpMethod == "GET"
                ? "authentication required"
                : "incorrect username or password");
            return;
        }

        var access = scopes.Select(TokenAccess.ParseScope).OfType<TokenAccess>().ToList();
        var token = _issuer.Issue(subject ?? "", access, _lifetime);
        Interlocked.Increment(ref _tokensIssued);
        await WriteJsonAsync(context.Response, HttpStatusCode.OK, writer =>
        {
            writer.WriteString("token", token);
            writer.WriteString("access_token", token);
            writer.WriteNumber("expires_in", (int)_lifetime.TotalSeconds);
            writer.WriteString("issued_at", DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        });
    }

    private string? CheckBasic(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
            return decoded == _auth.Username + ":" + _auth.Password ? _auth.Username : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static async Task<Dictionary<string, string>> ReadFormAsync(HttpListenerRequest request)
    {
        var buffer = new byte[MaxFormBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await request.InputStream.ReadAsync(buffer.AsMemory(total))) > 0)
        {
            total += read;
        }

        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in Encoding.UTF8.GetString(buffer, 0, total).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals < 0 ? pair : pair[..equals]);
            form.TryAdd(name, equals < 0 ? "" : Decode(pair[(equals + 1)..]));
        }

        return form;

        static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
    }

    private static Task WriteErrorAsync(HttpListenerResponse response, HttpStatusCode status, string code, string message) =>
        WriteJsonAsync(response, status, writer =>
        {
            writer.WriteStartArray("errors");
            writer.WriteStartObject();
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndArray();
        });

    private static async Task WriteJsonAsync(HttpListenerResponse response, HttpStatusCode status, Action<Utf8JsonWriter> writeProperties)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        response.StatusCode = (int)status;
        response.ContentType = "application/json";
        response.ContentLength64 = buffer.Length;
        await response.OutputStream.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }
}
