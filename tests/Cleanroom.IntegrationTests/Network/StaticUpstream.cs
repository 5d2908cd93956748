using System.Globalization;
using System.Text.Json;

namespace Cleanroom.IntegrationTests.Network;

/// <summary>
/// A static HTTP server in a <see cref="NetworkedDaemon"/>'s test internet, standing in for package hosts behind the
/// gateway: it serves the files added here by exact path (anything else is 404) and logs every request's path, so a
/// test can count what reached the upstream. Its files live in <paramref name="directory"/>.
/// </summary>
public sealed class StaticUpstream(string directory)
{
    // Serves routes.json's paths (path -> [content type, file]) and logs every request's path to requests.log.
    private const string Script = """
        import http.server, json, os, sys
        root = sys.argv[1]
        routes = json.load(open(os.path.join(root, "routes.json")))
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with open(os.path.join(root, "requests.log"), "a") as log:
                    log.write(self.path + "\n")
                route = routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = open(os.path.join(root, route[1]), "rb").read()
                self.send_response(200)
                self.send_header("Content-Type", route[0])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[2])), Handler).serve_forever()
        """;

    private readonly Dictionary<string, string[]> _routes = [];

    public string Directory { get; } = System.IO.Directory.CreateDirectory(directory).FullName;

    private string RequestLog => Path.Combine(Directory, "requests.log");

    /// <summary>Serves <paramref name="content"/> at <paramref name="path"/> (exactly, query included) with <paramref name="contentType"/>.</summary>
    public void Add(string path, string contentType, byte[] content)
    {
        var file = "f" + _routes.Count.ToString(CultureInfo.InvariantCulture);
        File.WriteAllBytes(Path.Combine(Directory, file), content);
        _routes[path] = [contentType, file];
    }

    /// <summary>Starts the server on <paramref name="port"/> in <paramref name="daemon"/>'s internet with the files added so far.</summary>
    public void Start(NetworkedDaemon daemon, int port)
    {
        File.WriteAllText(Path.Combine(Directory, "routes.json"), JsonSerializer.Serialize(_routes));
        daemon.StartInInternet("python3", "-c", Script, Directory, port.ToString(CultureInfo.InvariantCulture));
        daemon.WaitForInternetPort(port);
    }

    /// <summary>How many requests for exactly <paramref name="path"/> reached the server.</summary>
    public int Requests(string path) => AllRequests().Count(line => line == path);

    /// <summary>Every request path the server received, in order.</summary>
    public IReadOnlyList<string> AllRequests() => File.Exists(RequestLog) ? File.ReadAllLines(RequestLog) : [];
}
