namespace Cleanroom.IntegrationTests;

/// <summary>
/// The daemon's log is for what happened to sandboxes and the daemon, not one line per API call: a CI host calls the API
/// for every command, and the web host's request lines drowned the rest. An operator who wants them turns them on
/// through the environment of <c>cleanroom serve</c>, which its daemon inherits.
/// </summary>
public sealed class ServeRequestLogTests
{
    private const string RequestLine = "Request starting";

    [Fact]
    public async Task Api_calls_leave_no_line_each_in_the_daemons_log()
    {
        var log = await LogOfCallsAsync(environment: null);
        Assert.DoesNotContain(RequestLine, log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_request_lines_come_back_when_the_environment_asks_for_them()
    {
        var log = await LogOfCallsAsync(new Dictionary<string, string> { ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information" });
        Assert.True(CountOf(RequestLine, log) >= Calls, $"expected a request line per call ({Calls}):\n{log}");
    }

    private const int Calls = 3;

    /// <summary>Starts serve, makes <see cref="Calls"/> API calls (`cleanroom version`), stops it, and returns everything it printed.</summary>
    private static Task<string> LogOfCallsAsync(IReadOnlyDictionary<string, string>? environment) =>
        ServeSignalTests.WithServeAsync(
            async (state, socket, _) =>
            {
                for (var i = 0; i < Calls; i++)
                {
                    var (exit, _, error) = await InstalledCli.RunAsync(socket, state, "version");
                    Assert.True(exit == 0, $"cleanroom version failed ({exit}): {error}");
                }
            },
            environment: environment);

    private static int CountOf(string text, string log)
    {
        var count = 0;
        for (var at = log.IndexOf(text, StringComparison.Ordinal); at >= 0; at = log.IndexOf(text, at + text.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
