using System.Text;
using Cleanroom.Escaping;

namespace Cleanroom.GuestAgent.Native;

/// <summary>
/// The process's arguments with every byte kept. .NET decodes argv as UTF-8 and turns bytes that are not UTF-8 into
/// U+FFFD, so a file name handed to a built-in tool (or through the exec-as helper) would name another file; the
/// kernel's copy in <c>/proc/self/cmdline</c> is decoded with <see cref="FileNameBytes"/> instead.
/// </summary>
internal static class ExactArguments
{
    private const string CommandLine = "/proc/self/cmdline";

    /// <summary>
    /// <paramref name="args"/> (as .NET gave them to Main) with each replaced by its exact form. Falls back to
    /// <paramref name="args"/> when /proc is not there or its arguments do not match them.
    /// </summary>
    public static string[] Of(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(CommandLine);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return args;
        }

        return Match(Split(bytes), args) ?? args;
    }

    /// <summary>
    /// The last <c>args.Length</c> of <paramref name="exact"/> (the command line also holds argv[0], and a host such
    /// as dotnet adds its own), when each decodes lossily to the matching entry of <paramref name="args"/>.
    /// </summary>
    internal static string[]? Match(IReadOnlyList<string> exact, string[] args)
    {
        var skip = exact.Count - args.Length;
        if (skip < 0)
        {
            return null;
        }

        var result = new string[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            var candidate = exact[skip + i];
            if (Encoding.UTF8.GetString(FileNameBytes.Encode(candidate)) != args[i])
            {
                return null;
            }

            result[i] = candidate;
        }

        return result;
    }

    /// <summary>The NUL-terminated strings of a command line, decoded exactly.</summary>
    internal static List<string> Split(ReadOnlySpan<byte> commandLine)
    {
        var result = new List<string>();
        while (!commandLine.IsEmpty)
        {
            var end = commandLine.IndexOf((byte)0);
            var length = end < 0 ? commandLine.Length : end;
            result.Add(FileNameBytes.Decode(commandLine[..length]));
            commandLine = commandLine[Math.Min(commandLine.Length, length + 1)..];
        }

        return result;
    }
}
