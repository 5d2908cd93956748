using Cleanroom.Daemon.Events;
using Cleanroom.Network;

namespace Cleanroom.Daemon.Tests;

/// <summary>The event log behind <c>sandbox events</c>: order, following, the per-sandbox bound and the audit's rate limit.</summary>
public sealed class SandboxEventTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cr-events-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_follower_gets_the_history_then_live_events_and_ends_with_the_sandbox()
    {
        using var store = new SandboxEventStore(Path.Combine(_dir, "db"));
        store.Add(Status("sb-a", "Provisioning"));
        store.Add(Status("sb-b", "Ready"));
        store.Add(Status("sb-a", "Ready"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var seen = new List<SandboxEventRecord>();
        var follow = Task.Run(async () =>
        {
            await foreach (var e in store.FollowAsync("sb-a", timeout.Token))
            {
                seen.Add(e);
                if (seen.Count == 2)
                {
                    store.Add(Denial("sb-a", "evil.test"));
                    store.Add(Status("sb-a", "Stopped"));
                    store.Complete("sb-a");
                }
            }
        });
        await follow;

        Assert.Equal(["Provisioning", "Ready", "", "Stopped"], seen.Select(e => e.Status));
        Assert.Equal("evil.test", seen[2].Destination);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.Equal(4, store.List("sb-a").Count);
        Assert.Equal(2, store.List("sb-a", afterSequence: seen[1].Sequence).Count);
    }

    [Fact]
    public void Denials_past_the_bound_are_counted_once_and_status_changes_are_still_kept()
    {
        using var store = new SandboxEventStore(Path.Combine(_dir, "db"), maxEventsPerSandbox: 5);
        var stored = Enumerable.Range(0, 50).Count(i => store.Add(Denial("sb-a", $"n{i}.test")));
        store.Add(Status("sb-a", "Stopped"));

        Assert.Equal(5, stored);
        var events = store.List("sb-a");
        Assert.Equal(7, events.Count); // 5 denials, one notice that the rest are counted, the final status
        Assert.Single(events, e => e.Kind == SandboxEventKind.Suppressed);
        Assert.Equal("Stopped", events[^1].Status);
    }

    [Fact]
    public void A_flood_of_denials_is_rate_limited_into_the_audit_log_and_says_how_many_were_skipped()
    {
        using var store = new SandboxEventStore(Path.Combine(_dir, "db"));
        var time = new ManualTime();
        using var audit = new EgressAuditLog(_dir, store, time);
        for (var i = 0; i < 1000; i++)
        {
            audit.Denied(new EgressDenial("sb-a", DateTimeOffset.UtcNow, $"q{i}.evil.test\u001b[2J", 53, "dns", "host_not_allowed"));
        }

        time.Advance(TimeSpan.FromSeconds(1));
        audit.Denied(new EgressDenial("sb-a", DateTimeOffset.UtcNow, "after.test", 53, "dns", "host_not_allowed"));

        var lines = File.ReadAllLines(audit.FilePath);
        Assert.Equal((int)EgressAuditLog.Burst + 1, lines.Length);
        Assert.Contains("\"skipped_before\":" + (1000 - (int)EgressAuditLog.Burst), lines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains('\u001b', StringComparison.Ordinal));
        Assert.Equal((int)EgressAuditLog.Burst + 1, store.List("sb-a").Count);
    }

    private static SandboxEventRecord Status(string id, string status) =>
        new() { SandboxId = id, Kind = SandboxEventKind.Status, OccurredAt = DateTimeOffset.UtcNow, Status = status };

    private static SandboxEventRecord Denial(string id, string name) =>
        new() { SandboxId = id, Kind = SandboxEventKind.EgressDenied, OccurredAt = DateTimeOffset.UtcNow, Destination = name, Port = 53, Protocol = "dns", Reason = "host_not_allowed" };

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
