/*
 * Every flow log field AWS defines, with its GELF name (Graylog's AWS plugin
 * names where it had one, a-b-c -> a_b_c otherwise) and how it is checked.
 */
#include "vpcflowd/flow.h"

#include <string.h>

const struct vf_field_info vf_fields[VF_F_KNOWN] = {
	[VF_F_VERSION] = { "version", "flow_log_version", VF_KIND_INT, 2, 255 },
	[VF_F_ACCOUNT_ID] = { "account-id", "account_id", VF_KIND_STRING, 2, 0 },
	[VF_F_INTERFACE_ID] = { "interface-id", "interface_id", VF_KIND_STRING, 2, 0 },
	[VF_F_SRCADDR] = { "srcaddr", "src_addr", VF_KIND_STRING, 2, 0 },
	[VF_F_DSTADDR] = { "dstaddr", "dst_addr", VF_KIND_STRING, 2, 0 },
	[VF_F_SRCPORT] = { "srcport", "src_port", VF_KIND_INT, 2, 65535 },
	[VF_F_DSTPORT] = { "dstport", "dst_port", VF_KIND_INT, 2, 65535 },
	[VF_F_PROTOCOL] = { "protocol", "protocol_number", VF_KIND_INT, 2, 255 },
	[VF_F_PACKETS] = { "packets", "packets", VF_KIND_INT, 2, UINT64_MAX },
	[VF_F_BYTES] = { "bytes", "bytes", VF_KIND_INT, 2, UINT64_MAX },
	[VF_F_START] = { "start", "flow_start", VF_KIND_INT, 2, UINT32_MAX * 1024ULL },
	[VF_F_END] = { "end", "flow_end", VF_KIND_INT, 2, UINT32_MAX * 1024ULL },
	[VF_F_ACTION] = { "action", "action", VF_KIND_STRING, 2, 0 },
	[VF_F_LOG_STATUS] = { "log-status", "log_status", VF_KIND_STRING, 2, 0 },
	[VF_F_VPC_ID] = { "vpc-id", "vpc_id", VF_KIND_STRING, 3, 0 },
	[VF_F_SUBNET_ID] = { "subnet-id", "subnet_id", VF_KIND_STRING, 3, 0 },
	[VF_F_INSTANCE_ID] = { "instance-id", "instance_id", VF_KIND_STRING, 3, 0 },
	[VF_F_TCP_FLAGS] = { "tcp-flags", "tcp_flags", VF_KIND_INT, 3, 255 },
	[VF_F_TYPE] = { "type", "traffic_type", VF_KIND_STRING, 3, 0 },
	[VF_F_PKT_SRCADDR] = { "pkt-srcaddr", "pkt_src_addr", VF_KIND_STRING, 3, 0 },
	[VF_F_PKT_DSTADDR] = { "pkt-dstaddr", "pkt_dst_addr", VF_KIND_STRING, 3, 0 },
	[VF_F_REGION] = { "region", "region", VF_KIND_STRING, 4, 0 },
	[VF_F_AZ_ID] = { "az-id", "az_id", VF_KIND_STRING, 4, 0 },
	[VF_F_SUBLOCATION_TYPE] = { "sublocation-type", "sublocation_type", VF_KIND_STRING, 4, 0 },
	[VF_F_SUBLOCATION_ID] = { "sublocation-id", "sublocation_id", VF_KIND_STRING, 4, 0 },
	[VF_F_PKT_SRC_AWS_SERVICE] = { "pkt-src-aws-service", "pkt_src_aws_service", VF_KIND_STRING, 5, 0 },
	[VF_F_PKT_DST_AWS_SERVICE] = { "pkt-dst-aws-service", "pkt_dst_aws_service", VF_KIND_STRING, 5, 0 },
	[VF_F_FLOW_DIRECTION] = { "flow-direction", "flow_direction", VF_KIND_STRING, 5, 0 },
	[VF_F_TRAFFIC_PATH] = { "traffic-path", "traffic_path", VF_KIND_INT, 5, 255 },
	[VF_F_ECS_CLUSTER_ARN] = { "ecs-cluster-arn", "ecs_cluster_arn", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_CLUSTER_NAME] = { "ecs-cluster-name", "ecs_cluster_name", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_CONTAINER_INSTANCE_ARN] = { "ecs-container-instance-arn", "ecs_container_instance_arn", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_CONTAINER_INSTANCE_ID] = { "ecs-container-instance-id", "ecs_container_instance_id", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_CONTAINER_ID] = { "ecs-container-id", "ecs_container_id", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_SECOND_CONTAINER_ID] = { "ecs-second-container-id", "ecs_second_container_id", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_SERVICE_NAME] = { "ecs-service-name", "ecs_service_name", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_TASK_DEFINITION_ARN] = { "ecs-task-definition-arn", "ecs_task_definition_arn", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_TASK_ARN] = { "ecs-task-arn", "ecs_task_arn", VF_KIND_STRING, 7, 0 },
	[VF_F_ECS_TASK_ID] = { "ecs-task-id", "ecs_task_id", VF_KIND_STRING, 7, 0 },
	[VF_F_REJECT_REASON] = { "reject-reason", "reject_reason", VF_KIND_STRING, 8, 0 },
	[VF_F_RESOURCE_ID] = { "resource-id", "resource_id", VF_KIND_STRING, 9, 0 },
	[VF_F_ENCRYPTION_STATUS] = { "encryption-status", "encryption_status", VF_KIND_INT, 10, 255 },
	[VF_F_INSTANCE_TAG] = { "instance-tag", "instance_tag", VF_KIND_STRING, 11, 0 },
	[VF_F_INSTANCE_TAG_2] = { "instance-tag-2", "instance_tag_2", VF_KIND_STRING, 11, 0 },
	[VF_F_INTERFACE_TAG] = { "interface-tag", "interface_tag", VF_KIND_STRING, 11, 0 },
	[VF_F_INTERFACE_TAG_2] = { "interface-tag-2", "interface_tag_2", VF_KIND_STRING, 11, 0 },
	[VF_F_ASG_TAG] = { "asg-tag", "asg_tag", VF_KIND_STRING, 11, 0 },
	[VF_F_ASG_TAG_2] = { "asg-tag-2", "asg_tag_2", VF_KIND_STRING, 11, 0 },
	[VF_F_INTERFACE_TYPE] = { "interface-type", "interface_type", VF_KIND_STRING, 11, 0 },
	[VF_F_NEXT_HOP_INTERFACE_ID] = { "next-hop-interface-id", "next_hop_interface_id", VF_KIND_STRING, 11, 0 },
	[VF_F_NEXT_HOP_SUBNET_ID] = { "next-hop-subnet-id", "next_hop_subnet_id", VF_KIND_STRING, 11, 0 },
	[VF_F_NEXT_HOP_AZ_ID] = { "next-hop-az-id", "next_hop_az_id", VF_KIND_STRING, 11, 0 },
	[VF_F_NEXT_HOP_VPC_ID] = { "next-hop-vpc-id", "next_hop_vpc_id", VF_KIND_STRING, 11, 0 },
	[VF_F_NEXT_HOP_INTERFACE_TYPE] = { "next-hop-interface-type", "next_hop_interface_type", VF_KIND_STRING, 11, 0 },
	[VF_F_RESOURCE_TYPE] = { "resource-type", "resource_type", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_ID] = { "tgw-id", "tgw_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_ATTACHMENT_ID] = { "tgw-attachment-id", "tgw_attachment_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_SRC_VPC_ACCOUNT_ID] = { "tgw-src-vpc-account-id", "tgw_src_vpc_account_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_DST_VPC_ACCOUNT_ID] = { "tgw-dst-vpc-account-id", "tgw_dst_vpc_account_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_SRC_VPC_ID] = { "tgw-src-vpc-id", "tgw_src_vpc_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_DST_VPC_ID] = { "tgw-dst-vpc-id", "tgw_dst_vpc_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_SRC_SUBNET_ID] = { "tgw-src-subnet-id", "tgw_src_subnet_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_DST_SUBNET_ID] = { "tgw-dst-subnet-id", "tgw_dst_subnet_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_SRC_ENI] = { "tgw-src-eni", "tgw_src_eni", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_DST_ENI] = { "tgw-dst-eni", "tgw_dst_eni", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_SRC_AZ_ID] = { "tgw-src-az-id", "tgw_src_az_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_DST_AZ_ID] = { "tgw-dst-az-id", "tgw_dst_az_id", VF_KIND_STRING, 6, 0 },
	[VF_F_TGW_PAIR_ATTACHMENT_ID] = { "tgw-pair-attachment-id", "tgw_pair_attachment_id", VF_KIND_STRING, 6, 0 },
	[VF_F_PACKETS_LOST_NO_ROUTE] = { "packets-lost-no-route", "packets_lost_no_route", VF_KIND_STRING, 6, 0 },
	[VF_F_PACKETS_LOST_BLACKHOLE] = { "packets-lost-blackhole", "packets_lost_blackhole", VF_KIND_STRING, 6, 0 },
	[VF_F_PACKETS_LOST_MTU_EXCEEDED] = { "packets-lost-mtu-exceeded", "packets_lost_mtu_exceeded", VF_KIND_STRING, 6, 0 },
	[VF_F_PACKETS_LOST_TTL_EXPIRED] = { "packets-lost-ttl-expired", "packets_lost_ttl_expired", VF_KIND_STRING, 6, 0 },
};

int vf_field_lookup(const char *name, size_t len)
{
	/* 72 names, looked up only when a format is created: a scan will do. */
	for (int i = 0; i < VF_F_KNOWN; i++) {
		const char *aws = vf_fields[i].aws_name;
		if (strncmp(aws, name, len) == 0 && aws[len] == '\0')
			return i;
	}
	return -1;
}
