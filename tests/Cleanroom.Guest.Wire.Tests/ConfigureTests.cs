using System.Collections.Concurrent;
using Cleanroom.Guest.Wire.Guest;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;

namespace Cleanroom.Guest.Wire.Tests;

/// <summary>
/// A guest restored from a template waits for its sandbox's settings: it runs nothing before them, takes them once,
/// and stays configured across host connections.
/// </summary>
public class ConfigureTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    internal static ConfigureMessage Message(string arguments) =>
        new(arguments, Enumerable.Range(0, 48).Select(i => (byte)i).ToArray(), 1_764_000_000_000_000_000);

    [Fact]
    public async Task A_configure_is_applied_once_and_then_commands_run()
    {
        var configurator = new RecordingConfigurator();
        await using var guest = await Connection.StartAsync(new BootConfiguration(configurator));
        var message = Message("cleanroom.workspace=/work");

        await guest.Client.ConfigureAsync(message, CancellationToken.None);

        var applied = Assert.Single(configurator.Received);
        Assert.Equal((message.Arguments, message.UnixTimeNanoseconds), (applied.Arguments, applied.UnixTimeNanoseconds));
        Assert.Equal(message.Entropy, applied.Entropy);
        Assert.Equal(3, await ExitCodeAsync(guest.Client, "3"));
    }

    [Fact]
    public async Task A_second_configure_is_refused_without_running_the_configurator_and_the_connection_survives()
    {
        var configurator = new RecordingConfigurator();
        await using var guest = await Connection.StartAsync(new BootConfiguration(configurator));
        await guest.Client.ConfigureAsync(Message("a=1"), CancellationToken.None);

        var error = await Assert.ThrowsAsync<AgentConfigureException>(() => guest.Client.ConfigureAsync(Message("a=2"), CancellationToken.None));

        Assert.Contains("already configured", error.Message, StringComparison.Ordinal);
        Assert.Single(configurator.Received);
        Assert.Equal(0, await ExitCodeAsync(guest.Client, "0"));
    }

    [Fact]
    public async Task A_command_before_the_configure_is_refused_and_the_connection_survives()
    {
        var configurator = new RecordingConfigurator();
        await using var guest = await Connection.StartAsync(new BootConfiguration(configurator));

        var refused = await guest.Client.StartAsync(new ExecRequest { Argv = ["exit", "3"] }, CancellationToken.None);
        var exit = await refused.Exited.WaitAsync(Timeout);

        Assert.Equal(126, exit.ExitCode);
        Assert.Contains("not configured yet", exit.Error, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => refused.Started);
        await guest.Client.ConfigureAsync(Message("a=1"), CancellationToken.None);
        Assert.Equal(3, await ExitCodeAsync(guest.Client, "3"));
    }

    [Fact]
    public async Task A_configurator_error_reaches_the_caller_escaped_and_the_guest_stays_unconfigured()
    {
        var configurator = new RecordingConfigurator("workspace: no disk\nforged: line");
        await using var guest = await Connection.StartAsync(new BootConfiguration(configurator));

        var error = await Assert.ThrowsAsync<AgentConfigureException>(() => guest.Client.ConfigureAsync(Message("a=1"), CancellationToken.None));

        Assert.Contains("workspace: no disk\\nforged: line", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        var refused = await guest.Client.StartAsync(new ExecRequest { Argv = ["exit", "0"] }, CancellationToken.None);
        Assert.Equal(126, (await refused.Exited.WaitAsync(Timeout)).ExitCode);

        // The configurator succeeds the second time (RecordingConfigurator fails only as often as it was given errors).
        await guest.Client.ConfigureAsync(Message("a=1"), CancellationToken.None);
        Assert.Equal(2, configurator.Received.Count);
        Assert.Equal(0, await ExitCodeAsync(guest.Client, "0"));
    }

    [Fact]
    public async Task A_configurator_that_throws_is_reported_as_an_error()
    {
        var configurator = new RecordingConfigurator { Throw = true };
        await using var guest = await Connection.StartAsync(new BootConfiguration(configurator));

        var error = await Assert.ThrowsAsync<AgentConfigureException>(() => guest.Client.ConfigureAsync(Message("a=1"), CancellationToken.None));

        Assert.Contains("the configurator broke", error.Message, StringComparison.Ordinal);
        await guest.Client.PingAsync(CancellationToken.None).WaitAsync(Timeout); // still connected
        Assert.Null(guest.Client.Failure);
    }

    [Fact]
    public async Task The_configured_state_survives_a_reconnect()
    {
        var configurator = new RecordingConfigurator();
        var configuration = new BootConfiguration(configurator);
        await using (var first = await Connection.StartAsync(configuration))
        {
            await first.Client.ConfigureAsync(Message("a=1"), CancellationToken.None);
        }

        await using var second = await Connection.StartAsync(configuration);

        Assert.Equal(5, await ExitCodeAsync(second.Client, "5"));
        var error = await Assert.ThrowsAsync<AgentConfigureException>(() => second.Client.ConfigureAsync(Message("a=1"), CancellationToken.None));
        Assert.Contains("already configured", error.Message, StringComparison.Ordinal);
        Assert.Single(configurator.Received);
    }

    [Fact]
    public async Task A_guest_that_booted_with_its_settings_refuses_a_configure_and_keeps_serving()
    {
        await using var guest = await Connection.StartAsync(configuration: null);

        var error = await Assert.ThrowsAsync<AgentConfigureException>(() => guest.Client.ConfigureAsync(Message("a=1"), CancellationToken.None));

        Assert.Contains("not waiting for configuration", error.Message, StringComparison.Ordinal);
        Assert.Equal(7, await ExitCodeAsync(guest.Client, "7"));
    }

    [Fact]
    public async Task Each_host_of_a_waiting_guest_is_counted_and_a_configured_guest_stops_telling()
    {
        var configurator = new RecordingConfigurator();
        var configuration = new BootConfiguration(configurator);

        // The template's own host, then a clone's: the server handles frames in order, so once a command came back
        // refused, the hello before it was counted.
        foreach (var expected in new[] { new[] { 1 }, [1, 2] })
        {
            await using var guest = await Connection.StartAsync(configuration);
            Assert.Equal(126, await ExitCodeAsync(guest.Client, "0"));
            Assert.Equal(expected, configurator.Hosts);
            if (expected.Length == 2)
            {
                await guest.Client.ConfigureAsync(Message("a=1"), CancellationToken.None);
            }
        }

        await using var configured = await Connection.StartAsync(configuration);
        Assert.Equal(4, await ExitCodeAsync(configured.Client, "4"));
        Assert.Equal([1, 2], configurator.Hosts);
    }

    private static async Task<int> ExitCodeAsync(AgentClient client, string code)
    {
        var process = await client.StartAsync(new ExecRequest { Argv = ["exit", code] }, CancellationToken.None);
        return (await process.Exited.WaitAsync(Timeout)).ExitCode;
    }

    /// <summary>Returns the given errors in turn, then succeeds; remembers every message it was given.</summary>
    private sealed class RecordingConfigurator(params string[] errors) : IBootConfigurator
    {
        private readonly ConcurrentQueue<string> _errors = new(errors);

        public List<ConfigureMessage> Received { get; } = [];

        public bool Throw { get; init; }

        public List<int> Hosts { get; } = [];

        public void HostArrived(int host) => Hosts.Add(host);

        public string? Configure(ConfigureMessage message)
        {
            Received.Add(message);
            return Throw ? throw new InvalidOperationException("the configurator broke")
                : _errors.TryDequeue(out var error) ? error : null;
        }
    }

    /// <summary>One host connection to an <see cref="AgentServer"/> with the scripted handler.</summary>
    private sealed class Connection : IAsyncDisposable
    {
        private readonly SocketPair _pair;
        private readonly Task<SessionEnd> _server;

        private Connection(SocketPair pair, Task<SessionEnd> server, AgentClient client)
        {
            _pair = pair;
            _server = server;
            Client = client;
        }

        public AgentClient Client { get; }

        public static async Task<Connection> StartAsync(BootConfiguration? configuration)
        {
            var pair = await SocketPair.CreateAsync();
            var server = new AgentServer(pair.Guest, new ScriptedHandler(), WireLimits.Default, "test-guest") { Configuration = configuration };
            var serving = Task.Run(() => server.RunAsync(CancellationToken.None));
            var client = await AgentClient.ConnectAsync(pair.Host, WireLimits.Default, Timeout, CancellationToken.None);
            return new Connection(pair, serving, client);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            Assert.Equal(SessionEnd.PeerClosed, await _server.WaitAsync(Timeout));
            await _pair.DisposeAsync();
        }
    }
}
