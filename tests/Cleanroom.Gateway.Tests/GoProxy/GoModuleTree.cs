using System.Text;
using Cleanroom.Gateway.Tests.Server;
using Cleanroom.TestSupport;

namespace Cleanroom.Gateway.Tests.GoProxy;

/// <summary>
/// A static GOPROXY tree on a loopback file server, built from <see cref="GoModuleFiles"/>: for each module version
/// its <c>.info</c>, <c>.mod</c> and a real module zip, the module's <c>@v/list</c> and <c>@latest</c>. Paths are
/// case-escaped as the protocol wants (<c>example.test/Upper</c> is <c>example.test/!upper</c>).
/// </summary>
internal static class GoModuleTree
{
    /// <summary>Serves <paramref name="versions"/> of <paramref name="module"/> (the last is the latest).</summary>
    public static void Add(FileServer server, string module, params string[] versions)
    {
        var root = "/" + GoModuleFiles.Escape(module);
        for (var i = 0; i < versions.Length; i++)
        {
            var version = versions[i];
            var escaped = GoModuleFiles.Escape(version);
            server.Add($"{root}/@v/{escaped}.info", GoModuleFiles.Info(version, i));
            server.Add($"{root}/@v/{escaped}.mod", Encoding.UTF8.GetBytes(GoModuleFiles.GoMod(module)));
            server.Add($"{root}/@v/{escaped}.zip", GoModuleFiles.Zip(module, version));
        }

        server.Add($"{root}/@v/list", Encoding.UTF8.GetBytes(string.Concat(versions.Select(v => v + "\n"))));
        server.Add($"{root}/@latest", GoModuleFiles.Info(versions[^1], versions.Length - 1));
    }
}
