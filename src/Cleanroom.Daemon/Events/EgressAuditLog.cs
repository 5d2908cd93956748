using System.Text.Json;
using Cleanroom.Escaping;
using Cleanroom.Network;

namespace Cleanroom.Daemon.Events;

/// <summary>
/// Where blocked egress goes: an event on the sandbox and a line in the append-only JSON-lines audit log
/// (<c>&lt;state&gt;/audit/egress.jsonl</c>). A guest decides how often it is blocked, so both are bounded: each
/// sandbox gets <see cref="RatePerSecond"/> denials a second (burst <see cref="Burst"/>); more are counted, and the
/// next line that gets through says how many were skipped. The file rotates at <see cref="MaxFileBytes"/> (one old
/// file kept).
/// </summary>
public sealed class EgressAuditLog : IEgressAudit, IDisposable
{
    public const double RatePerSecond = 20;
    public const double Burst = 100;
    public const long MaxFileBytes = 64L << 20;

    /// <summary>Rate state is kept for this many sandboxes before idle ones (full buckets) are dropped.</summary>
    private const int MaxTrackedSandboxes = 1024;

    private readonly SandboxEventStore _events;
    private readonly string _path;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private FileStream? _file;

    public EgressAuditLog(string stateDir, SandboxEventStore events, TimeProvider? time = null)
    {
        var dir = Path.Combine(stateDir, "audit");
        Directory.CreateDirectory(dir);
        _path = Path.Combine(dir, "egress.jsonl");
        _events = events;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Path of the current audit log.</summary>
    public string FilePath => _path;

    public void Denied(EgressDenial denial)
    {
        ArgumentNullException.ThrowIfNull(denial);
        long skipped;
        lock (_gate)
        {
            if (_buckets.Count > MaxTrackedSandboxes)
            {
                ForgetIdle();
            }

            var bucket = _buckets.TryGetValue(denial.SandboxId, out var b) ? b : _buckets[denial.SandboxId] = new Bucket(Burst, _time.GetTimestamp());
            if (!bucket.TryTake(_time))
            {
                bucket.Skipped++;
                return;
            }

            skipped = bucket.Skipped;
            bucket.Skipped = 0;
            WriteLine(denial, skipped);
        }

        _events.Add(new SandboxEventRecord
        {
            SandboxId = denial.SandboxId,
            Kind = SandboxEventKind.EgressDenied,
            OccurredAt = denial.Time,
            Destination = UntrustedText.Escape(denial.Destination, 512),
            Port = denial.Port,
            Protocol = denial.Protocol,
            Reason = denial.Reason,
            Message = skipped > 0 ? $"{skipped} more denials were not recorded (rate limit)" : "",
        });
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file?.Dispose();
            _file = null;
        }
    }

    /// <summary>A bucket that refilled completely is the same as a new one: drop those.</summary>
    private void ForgetIdle()
    {
        var idleAfter = TimeSpan.FromSeconds(Burst / RatePerSecond);
        foreach (var (id, bucket) in _buckets.ToList())
        {
            if (bucket.Skipped == 0 && _time.GetElapsedTime(bucket.Stamp) >= idleAfter)
            {
                _buckets.Remove(id);
            }
        }
    }

    private void WriteLine(EgressDenial denial, long skipped)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", denial.Time.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("sandbox_id", denial.SandboxId);
            json.WriteString("destination", UntrustedText.Escape(denial.Destination, 512));
            json.WriteNumber("port", denial.Port);
            json.WriteString("protocol", denial.Protocol);
            json.WriteString("reason", denial.Reason);
            if (skipped > 0)
            {
                json.WriteNumber("skipped_before", skipped);
            }

            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        var file = Open();
        if (file.Length + buffer.Length > MaxFileBytes)
        {
            file.Dispose();
            File.Move(_path, _path + ".1", overwrite: true);
            _file = null;
            file = Open();
        }

        file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        file.Flush();
    }

    private FileStream Open() =>
        _file ??= new FileStream(_path, new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });

    private sealed class Bucket(double tokens, long stamp)
    {
        private double _tokens = tokens;
        private long _stamp = stamp;

        public long Skipped { get; set; }

        public long Stamp => _stamp;

        public bool TryTake(TimeProvider time)
        {
            var now = time.GetTimestamp();
            _tokens = Math.Min(Burst, _tokens + (time.GetElapsedTime(_stamp, now).TotalSeconds * RatePerSecond));
            _stamp = now;
            if (_tokens < 1)
            {
                return false;
            }

            _tokens--;
            return true;
        }
    }
}
