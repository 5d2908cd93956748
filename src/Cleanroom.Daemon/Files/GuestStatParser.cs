using System.Globalization;
using System.Text.Json;
using Cleanroom.Escaping;

namespace Cleanroom.Daemon.Files;

/// <summary>Reads the stat tool's one JSON line. It comes from the guest: every field is checked, nothing trusted.</summary>
internal static class GuestStatParser
{
    private static readonly string[] Types = ["file", "directory", "symlink", "other"];

    public static GuestPathStat Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 4 });
            var root = document.RootElement;
            var type = root.GetProperty("type").GetString() ?? "";
            if (!Types.Contains(type, StringComparer.Ordinal))
            {
                throw Bad("unknown type");
            }

            var mode = Convert.ToUInt32(root.GetProperty("mode").GetString() ?? "", 8);
            if (mode > 0xFFF)
            {
                throw Bad("mode out of range");
            }

            var size = root.GetProperty("size").GetInt64();
            var mtime = root.GetProperty("mtime_unix_ms").GetInt64();
            return new GuestPathStat(
                UntrustedText.Escape(root.GetProperty("path").GetString() ?? ""),
                type,
                mode,
                size < 0 ? throw Bad("negative size") : size,
                DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(mtime, -62135596800000L, 253402300799999L)),
                root.GetProperty("uid").GetUInt32(),
                root.GetProperty("gid").GetUInt32(),
                root.TryGetProperty("link_target", out var target) ? UntrustedText.Escape(target.GetString() ?? "") : "");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            throw Bad(ex.Message);
        }
    }

    private static DaemonException Bad(string why) =>
        new(Grpc.Core.StatusCode.Internal, ReasonCode.GuestProtocolError, string.Create(CultureInfo.InvariantCulture, $"the guest's stat answer is malformed: {UntrustedText.Escape(why, 200)}"));
}
