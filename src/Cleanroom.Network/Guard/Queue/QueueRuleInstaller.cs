using System.Runtime.InteropServices;
using Cleanroom.Network.Nflog;

namespace Cleanroom.Network.Guard.Queue;

/// <summary>
/// Puts the one rule that hands packets to the queue guard at the head of the firewall's <c>guard_queue</c> chain,
/// over nf_tables netlink: an xtables <c>NFQUEUE</c> target (revision 3, no bypass flag) run through nft_compat. The
/// nft language's own <c>queue</c> statement needs the nft_queue module (CONFIG_NFT_QUEUE), which some kernels lack
/// (this project's CI kernel among them), while nft_compat and xt_NFQUEUE are what iptables-nft needs and are
/// everywhere. nft lists the rule as <c>queue num N</c>. The chain ends in <c>drop</c>, so until this rule is in
/// place (and whenever nobody reads the queue) undecided connections are dropped, never passed.
/// </summary>
internal static class QueueRuleInstaller
{
    private const byte SubsystemNftables = 10;
    private const ushort BatchBegin = 0x10;
    private const ushort BatchEnd = 0x11;
    private const ushort NewRule = (SubsystemNftables << 8) | 6;
    private const ushort FlagCreate = 0x400;
    private const byte FamilyInet = 1;

    // NFTA_RULE_*, NFTA_LIST_ELEM, NFTA_EXPR_*, NFTA_TARGET_*
    private const ushort RuleTable = 1;
    private const ushort RuleChain = 2;
    private const ushort RuleExpressions = 4;
    private const ushort ListElement = 1;
    private const ushort ExpressionName = 1;
    private const ushort ExpressionData = 2;
    private const ushort TargetName = 1;
    private const ushort TargetRevision = 2;
    private const ushort TargetInfo = 3;

    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The chain of Cleanroom's table the rule goes into (rendered by the firewall in queue mode).</summary>
    public const string Chain = "guard_queue";

    /// <summary>
    /// Inserts the rule into table <c>inet <paramref name="table"/></c> (in <paramref name="networkNamespacePath"/>
    /// when given). Throws <see cref="NflogException"/> with the kernel's errno when it is refused.
    /// </summary>
    public static void Install(string table, ushort queue, string? networkNamespacePath = null)
    {
        using var socket = networkNamespacePath is null
            ? NetlinkSocket.Open(LinuxNative.NetlinkNetfilter)
            : NetworkNamespace.Run(networkNamespacePath, () => NetlinkSocket.Open(LinuxNative.NetlinkNetfilter));
        var errno = NetlinkAck.Exchange(socket, Batch(table, queue, 2), 2, AnswerTimeout);
        if (errno != 0)
        {
            throw new NflogException(
                $"The kernel refused the NFQUEUE rule for the queue guard in table inet {table}: {LinuxNative.Describe(errno)} "
                + "(it needs nft_compat and xt_NFQUEUE: CONFIG_NFT_COMPAT, CONFIG_NETFILTER_XT_TARGET_NFQUEUE).", errno);
        }
    }

    /// <summary>The batch: begin, the rule (its sequence is <paramref name="sequence"/>), end.</summary>
    public static byte[] Batch(string table, ushort queue, uint sequence)
    {
        // struct xt_NFQ_info_v3 in host order: queue number, queues in all (1: no fan-out), flags (0: no bypass).
        var info = new byte[6];
        MemoryMarshal.Write(info, queue);
        MemoryMarshal.Write(info.AsSpan(2), (ushort)1);
        var target = NetlinkAttributes.Nest(
            ListElement,
            NetlinkAttributes.Text(ExpressionName, "target"),
            NetlinkAttributes.Nest(ExpressionData, NetlinkAttributes.Text(TargetName, "NFQUEUE"), NetlinkAttributes.BigEndian32(TargetRevision, 3), NetlinkAttributes.Encode(TargetInfo, info)));
        var rule = new NetlinkRequestBuilder(NewRule, NetlinkFormat.FlagRequest | NetlinkFormat.FlagAck | FlagCreate, sequence)
            .Fixed(NfqueueProtocol.GenericHeader(FamilyInet, 0))
            .Fixed(NetlinkAttributes.Text(RuleTable, table))
            .Fixed(NetlinkAttributes.Text(RuleChain, Chain))
            .Fixed(NetlinkAttributes.Nest(RuleExpressions, target))
            .Build();
        var begin = new NetlinkRequestBuilder(BatchBegin, NetlinkFormat.FlagRequest, sequence - 1)
            .Fixed(NfqueueProtocol.GenericHeader(0, SubsystemNftables)).Build();
        var end = new NetlinkRequestBuilder(BatchEnd, NetlinkFormat.FlagRequest, sequence + 1)
            .Fixed(NfqueueProtocol.GenericHeader(0, SubsystemNftables)).Build();
        return [.. begin, .. rule, .. end];
    }
}
