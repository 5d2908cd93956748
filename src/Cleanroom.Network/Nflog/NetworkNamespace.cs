using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Cleanroom.Network.Nflog;

/// <summary>
/// Runs a function inside another network namespace, for creating sockets there: a socket keeps the namespace it was
/// created in, whichever thread uses it later. setns(2) changes only the calling thread, so the function runs on a
/// fresh thread that joins the namespace, and nothing else ever runs on that thread.
/// </summary>
internal static class NetworkNamespace
{
    /// <summary>
    /// Runs <paramref name="action"/> in the network namespace at <paramref name="path"/> (e.g.
    /// <c>/run/netns/NAME</c> or <c>/proc/PID/ns/net</c>) and returns its result or rethrows its exception.
    /// </summary>
    public static T Run<T>(string path, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(action);
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var target = OpenNamespace(path);
                if (LinuxNative.SetNs(target, LinuxNative.CloneNewnet) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    throw new NflogException($"Could not enter the network namespace {path}: {LinuxNative.Describe(errno)}.", errno);
                }

                // No way back is needed: the thread ends with the function and is never reused.
                result = action();
            }
#pragma warning disable CA1031 // Any failure belongs to the caller, on the caller's thread.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        })
        {
            IsBackground = true,
            Name = "netns-entry",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    private static SafeFileDescriptor OpenNamespace(string path)
    {
        var number = LinuxNative.Open(path, LinuxNative.ORdonly | LinuxNative.OCloexec);
        if (number < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NflogException($"Could not open the network namespace {path}: {LinuxNative.Describe(errno)}.", errno);
        }

        return new SafeFileDescriptor(number);
    }
}
