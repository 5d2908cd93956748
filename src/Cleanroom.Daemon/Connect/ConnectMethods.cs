using System.Diagnostics.CodeAnalysis;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Cleanroom.Daemon.Connect;

/// <summary>
/// Every RPC the Connect endpoint serves, keyed by path. Built from the generated <c>BindService</c> of each service
/// with no instance bound (as Grpc.AspNetCore discovers methods), so a method added to a .proto is served over Connect
/// with no change here.
/// </summary>
internal sealed class ConnectMethods
{
    private readonly Dictionary<string, ConnectMethod> _byPath = new(StringComparer.Ordinal);

    /// <summary>
    /// Adds the methods of one service, e.g. <c>Add&lt;SandboxApi&gt;(SandboxService.BindService,
    /// SandboxService.Descriptor)</c>; the descriptor gives each method's options.
    /// </summary>
    public ConnectMethods Add<TService>(Action<ServiceBinderBase, TService?> bind, ServiceDescriptor descriptor)
        where TService : class
    {
        bind(new Collector<TService>(this, bind, descriptor), null);
        return this;
    }

    public bool TryFind(string path, [NotNullWhen(true)] out ConnectMethod? method) => _byPath.TryGetValue(path, out method);

    public IEnumerable<ConnectMethod> All => _byPath.Values;

    private sealed class Collector<TService>(ConnectMethods table, Action<ServiceBinderBase, TService?> bind, ServiceDescriptor descriptor) : ServiceBinderBase
        where TService : class
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) => Add(method);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) => Add(method);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) => Add(method);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) => Add(method);

        private void Add<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class
        {
            var entry = new ConnectMethod<TService, TRequest, TResponse>(method, bind, descriptor);
            table._byPath.Add(entry.Path, entry);
        }
    }
}
