/*
 * The IANA protocol number table. Keywords are IANA's, upper-cased, with
 * "(deprecated)" dropped. Where the registry has no single usable keyword:
 *
 *   84   TTP and IPTM share the number: TTP, the first listed, is used.
 *   107  "A/N" (Active Networks) is the one keyword with a '/'; kept as is.
 *   124  "ISIS over IPv4" has spaces: ISIS, the name /etc/protocols uses.
 *   135  "Mobility Header" has a space: MOBILITY-HEADER, as /etc/protocols.
 *   255  listed as "Reserved", not a protocol: UNKNOWN.
 *
 * Checked against Debian netbase 6.4's /etc/protocols (name and aliases,
 * upper-cased): it lacks most of the old entries, and where it has a number
 * it agrees except for:
 *
 *   0    it lists the pseudo protocol "ip" before hopopt; IANA: HOPOPT.
 *   4    ipencap (alias IP-ENCAP); IANA: IPv4.
 *   50   esp, but alias IPSEC-ESP; 51 ah, but alias IPSEC-AH.
 *   73   rspf, with CPHB, IANA's keyword, only as an alias.
 *   262  mptcp: not an IP protocol number (above 255).
 *
 * Recent registry changes (none of these numbers is in that file): 55
 * renamed from MOBILE to Min-IPv4 (RFC 2004); 144 AGGFRAG (RFC 9347), 145 NSH
 * (RFC 9491), 146 Homa and 147 BIT-EMU added.
 */
#include "vpcflowd/protocols.h"

struct proto_name {
	const char *name;   /* NULL: no keyword */
	unsigned char len;
};

#define P(n, s) [n] = { s, sizeof(s) - 1 }

static const struct proto_name protocols[256] = {
	P(0, "HOPOPT"),
	P(1, "ICMP"),
	P(2, "IGMP"),
	P(3, "GGP"),
	P(4, "IPV4"),
	P(5, "ST"),
	P(6, "TCP"),
	P(7, "CBT"),
	P(8, "EGP"),
	P(9, "IGP"),
	P(10, "BBN-RCC-MON"),
	P(11, "NVP-II"),
	P(12, "PUP"),
	P(13, "ARGUS"),
	P(14, "EMCON"),
	P(15, "XNET"),
	P(16, "CHAOS"),
	P(17, "UDP"),
	P(18, "MUX"),
	P(19, "DCN-MEAS"),
	P(20, "HMP"),
	P(21, "PRM"),
	P(22, "XNS-IDP"),
	P(23, "TRUNK-1"),
	P(24, "TRUNK-2"),
	P(25, "LEAF-1"),
	P(26, "LEAF-2"),
	P(27, "RDP"),
	P(28, "IRTP"),
	P(29, "ISO-TP4"),
	P(30, "NETBLT"),
	P(31, "MFE-NSP"),
	P(32, "MERIT-INP"),
	P(33, "DCCP"),
	P(34, "3PC"),
	P(35, "IDPR"),
	P(36, "XTP"),
	P(37, "DDP"),
	P(38, "IDPR-CMTP"),
	P(39, "TP++"),
	P(40, "IL"),
	P(41, "IPV6"),
	P(42, "SDRP"),
	P(43, "IPV6-ROUTE"),
	P(44, "IPV6-FRAG"),
	P(45, "IDRP"),
	P(46, "RSVP"),
	P(47, "GRE"),
	P(48, "DSR"),
	P(49, "BNA"),
	P(50, "ESP"),
	P(51, "AH"),
	P(52, "I-NLSP"),
	P(53, "SWIPE"),
	P(54, "NARP"),
	P(55, "MIN-IPV4"),
	P(56, "TLSP"),
	P(57, "SKIP"),
	P(58, "IPV6-ICMP"),
	P(59, "IPV6-NONXT"),
	P(60, "IPV6-OPTS"),
	/* 61: any host internal protocol */
	P(62, "CFTP"),
	/* 63: any local network */
	P(64, "SAT-EXPAK"),
	P(65, "KRYPTOLAN"),
	P(66, "RVD"),
	P(67, "IPPC"),
	/* 68: any distributed file system */
	P(69, "SAT-MON"),
	P(70, "VISA"),
	P(71, "IPCV"),
	P(72, "CPNX"),
	P(73, "CPHB"),
	P(74, "WSN"),
	P(75, "PVP"),
	P(76, "BR-SAT-MON"),
	P(77, "SUN-ND"),
	P(78, "WB-MON"),
	P(79, "WB-EXPAK"),
	P(80, "ISO-IP"),
	P(81, "VMTP"),
	P(82, "SECURE-VMTP"),
	P(83, "VINES"),
	P(84, "TTP"),
	P(85, "NSFNET-IGP"),
	P(86, "DGP"),
	P(87, "TCF"),
	P(88, "EIGRP"),
	P(89, "OSPFIGP"),
	P(90, "SPRITE-RPC"),
	P(91, "LARP"),
	P(92, "MTP"),
	P(93, "AX.25"),
	P(94, "IPIP"),
	P(95, "MICP"),
	P(96, "SCC-SP"),
	P(97, "ETHERIP"),
	P(98, "ENCAP"),
	/* 99: any private encryption scheme */
	P(100, "GMTP"),
	P(101, "IFMP"),
	P(102, "PNNI"),
	P(103, "PIM"),
	P(104, "ARIS"),
	P(105, "SCPS"),
	P(106, "QNX"),
	P(107, "A/N"),
	P(108, "IPCOMP"),
	P(109, "SNP"),
	P(110, "COMPAQ-PEER"),
	P(111, "IPX-IN-IP"),
	P(112, "VRRP"),
	P(113, "PGM"),
	/* 114: any 0-hop protocol */
	P(115, "L2TP"),
	P(116, "DDX"),
	P(117, "IATP"),
	P(118, "STP"),
	P(119, "SRP"),
	P(120, "UTI"),
	P(121, "SMP"),
	P(122, "SM"),
	P(123, "PTP"),
	P(124, "ISIS"),
	P(125, "FIRE"),
	P(126, "CRTP"),
	P(127, "CRUDP"),
	P(128, "SSCOPMCE"),
	P(129, "IPLT"),
	P(130, "SPS"),
	P(131, "PIPE"),
	P(132, "SCTP"),
	P(133, "FC"),
	P(134, "RSVP-E2E-IGNORE"),
	P(135, "MOBILITY-HEADER"),
	P(136, "UDPLITE"),
	P(137, "MPLS-IN-IP"),
	P(138, "MANET"),
	P(139, "HIP"),
	P(140, "SHIM6"),
	P(141, "WESP"),
	P(142, "ROHC"),
	P(143, "ETHERNET"),
	P(144, "AGGFRAG"),
	P(145, "NSH"),
	P(146, "HOMA"),
	P(147, "BIT-EMU"),
	/* 148-252 unassigned; 253, 254 experimentation; 255 reserved */
};

#undef P

const char *vf_protocol_name(unsigned number, size_t *len)
{
	const struct proto_name *p;

	if (number < 256 && (p = &protocols[number])->name != NULL) {
		if (len != NULL)
			*len = p->len;
		return p->name;
	}
	if (len != NULL)
		*len = sizeof("UNKNOWN") - 1;
	return "UNKNOWN";
}
