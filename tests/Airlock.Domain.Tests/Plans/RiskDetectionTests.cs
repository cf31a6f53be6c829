using Airlock.Domain.Plans;

namespace Airlock.Domain.Tests.Plans;

public class RiskDetectionTests
{
    private static List<(string Kind, string Address)> Risks(string folder, string file) =>
        [.. PlanTestInput.Fixture(folder, file).Risks.Select(r => (r.Kind, r.Address)).Order()];

    // Each expectation below was read from the fixture with jq (after.* values per resource).
    [Fact]
    public void Terragoat_findings()
    {
        var risks = Risks("realistic-plans", "checkov-terragoat-aws-55-creates.json");

        // aws_db_instance.default: storage_encrypted=false, backup_retention_period=0, skip_final_snapshot=true.
        Assert.Contains((RiskKinds.EncryptionDisabled, "aws_db_instance.default"), risks);
        Assert.Contains((RiskKinds.BackupDisabled, "aws_db_instance.default"), risks);
        // aws_security_group.web-node: ingress 22 and 80 from 0.0.0.0/0.
        Assert.Contains((RiskKinds.PublicIngressAdded, "aws_security_group.web-node"), risks);
        // Inline policies with wildcards, trust policies with new principals, and policy attachments.
        Assert.Contains((RiskKinds.IamPrivilegeExpansion, "aws_iam_role_policy.ec2policy"), risks);
        Assert.Contains((RiskKinds.IamPrivilegeExpansion, "aws_iam_user_policy.userpolicy"), risks);
        Assert.Contains((RiskKinds.IamPrivilegeExpansion, "aws_iam_role.iam_for_eks"), risks);
        Assert.Contains((RiskKinds.IamPrivilegeExpansion, "aws_iam_role_policy_attachment.policy_attachment-AmazonEKSClusterPolicy"), risks);
        // Only creates: nothing destroyed.
        Assert.DoesNotContain(risks, r => r.Kind == RiskKinds.Destroy);
    }

    [Fact]
    public void Iam_policy_detail_names_the_new_actions_and_wildcard()
    {
        var risk = Assert.Single(PlanTestInput.Fixture("realistic-plans", "checkov-aws-iam-policies.json").Risks, r => r.Address == "aws_iam_role_policy.fail_1");

        Assert.Equal(RiskKinds.IamPrivilegeExpansion, risk.Kind);
        Assert.Contains("action iam:*", risk.Detail, StringComparison.Ordinal);
        Assert.Contains("resource *", risk.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Iam_policies_fixture_flags_each_policy_and_the_role_but_not_users_or_groups()
    {
        var risks = Risks("realistic-plans", "checkov-aws-iam-policies.json");

        Assert.Equal(
            [
                (RiskKinds.IamPrivilegeExpansion, "aws_iam_group_policy.fail_2"),
                (RiskKinds.IamPrivilegeExpansion, "aws_iam_policy.policy_pass"),
                (RiskKinds.IamPrivilegeExpansion, "aws_iam_role.example"),
                (RiskKinds.IamPrivilegeExpansion, "aws_iam_role_policy.fail_1"),
                (RiskKinds.IamPrivilegeExpansion, "aws_iam_user_policy.fail_3"),
            ],
            risks);
    }

    [Fact]
    public void Gcp_iam_bindings_and_members_are_privilege_expansion()
    {
        var risks = PlanTestInput.Fixture("realistic-plans", "tfvalidator-gcp-project-iam.json").Risks;

        Assert.Equal(5, risks.Count);
        Assert.All(risks, r => Assert.Equal(RiskKinds.IamPrivilegeExpansion, r.Kind));
        Assert.Contains(risks, r => r.Address == "google_project_iam_member.owner-a" && r.Detail.Contains("roles/owner", StringComparison.Ordinal) && r.Detail.Contains("user:example-a@google.com", StringComparison.Ordinal));
    }

    [Fact]
    public void Security_group_variety_flags_groups_and_ingress_rules_from_anywhere()
    {
        var risks = Risks("realistic-plans", "tfcompliance-aws-security-groups-variety.json");

        Assert.Equal(
            [
                (RiskKinds.PublicIngressAdded, "aws_security_group.example_group"),
                (RiskKinds.PublicIngressAdded, "aws_security_group.example_group_22"),
                (RiskKinds.PublicIngressAdded, "aws_security_group.example_group_3389"),
                (RiskKinds.PublicIngressAdded, "aws_security_group_rule.example_rule"),
                (RiskKinds.PublicIngressAdded, "aws_security_group_rule.example_rule_22"),
                (RiskKinds.PublicIngressAdded, "aws_security_group_rule.example_rule_3389"),
            ],
            risks);
    }

    [Fact]
    public void Egress_only_and_private_rules_are_not_public_ingress()
    {
        // Source-security-group and self rules only; an egress rule to 0.0.0.0/0 is not ingress.
        Assert.Empty(Risks("realistic-plans", "tfcompliance-aws-sg-rules-ingress.json"));
        // GCP firewalls in this plan are EGRESS or from private ranges.
        Assert.DoesNotContain(Risks("realistic-plans", "checkov-gcp-firewall-network-peering-modules.json"), r => r.Kind == RiskKinds.PublicIngressAdded);
        Assert.DoesNotContain(Risks("realistic-plans", "tfvalidator-gcp-compute-firewall.json"), r => r.Kind == RiskKinds.PublicIngressAdded);
        // The Azure rule from * is a Deny.
        Assert.DoesNotContain(Risks("realistic-plans", "checkov-azure-nsg.json"), r => r.Kind == RiskKinds.PublicIngressAdded);
    }

    [Fact]
    public void Infracost_database_update_with_unchanged_flags_is_not_a_new_risk_but_the_new_database_is()
    {
        var risks = Risks("realistic-plans", "infracost-aws-v014-rds-iam-noop-update.json");

        // db_1 is updated and was already unencrypted with retention 0: nothing newly disabled.
        Assert.DoesNotContain(risks, r => r.Address.Contains("db_1", StringComparison.Ordinal) && r.Kind != RiskKinds.IamPrivilegeExpansion);
        // db_2 is created with storage_encrypted=false and skip_final_snapshot=true.
        Assert.Contains((RiskKinds.EncryptionDisabled, "module.db.module.db_2.module.db_instance.aws_db_instance.this[0]"), risks);
        Assert.Contains((RiskKinds.BackupDisabled, "module.db.module.db_2.module.db_instance.aws_db_instance.this[0]"), risks);
    }

    [Fact]
    public void Deletes_are_destroy_findings()
    {
        var risks = Risks("realistic-plans", "tfcompliance-aws-lambda-sg-delete-update-drift-outputs.json");

        Assert.Equal(
            [
                (RiskKinds.Destroy, "aws_cloudwatch_event_rule.Metricos_custom_alert_schedule_frequent[0]"),
                (RiskKinds.Destroy, "aws_cloudwatch_event_target.Metricos_custom_alert_event_target_frequent[0]"),
            ],
            risks);
    }

    [Fact]
    public void Pulumi_security_group_and_iam_creates_are_found_by_their_pulumi_types()
    {
        var risks = Risks("pulumi", "display-up-create-eks-iam-sg.json");

        Assert.Contains((RiskKinds.PublicIngressAdded, "urn:pulumi:dev::eks::aws:ec2/securityGroup:SecurityGroup::eks-sg"), risks);
        Assert.Contains((RiskKinds.IamPrivilegeExpansion, "urn:pulumi:dev::eks::aws:iam/role:Role::eks-role"), risks);
        Assert.Contains((RiskKinds.IamPrivilegeExpansion, "urn:pulumi:dev::eks::aws:iam/rolePolicyAttachment:RolePolicyAttachment::eks-rpa-cluster-policy"), risks);
    }

    // ---- inputs built from the documented `show -json` format (no public fixture shows these) ----

    [Fact]
    public void Create_before_destroy_replacement_of_a_database_is_a_stateful_replacement()
    {
        // Documented format: change.actions ["create","delete"] means create_before_destroy.
        var plan = PlanTestInput.Plan(PlanTestInput.Change(
            "aws_db_instance.main", "aws_db_instance", """["create","delete"]""",
            before: """{"engine":"postgres","engine_version":"15"}""",
            after: """{"engine":"postgres","engine_version":"16"}""",
            changeExtra: ""","replace_paths":[["engine_version"]]""",
            extra: ""","action_reason":"replace_because_cannot_update" """));

        var summary = PlanTestInput.Text(plan);

        var resource = Assert.Single(summary.Resources);
        Assert.Equal(ReplaceOrder.CreateBeforeDestroy, resource.ReplaceOrder);
        var risk = Assert.Single(summary.Risks);
        Assert.Equal(RiskKinds.StatefulReplacement, risk.Kind);
        Assert.Contains("create-before-destroy", risk.Detail, StringComparison.Ordinal);
        Assert.Contains("engine_version", risk.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Resource_classes_come_from_the_map_given()
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_s3_bucket.logs", "aws_s3_bucket", """["delete","create"]""", before: "{}", after: "{}"));
        var classes = new ResourceClassMap(new Dictionary<string, IEnumerable<string>> { ["object_store"] = ["aws_s3_bucket"] });

        Assert.Empty(PlanTestInput.Text(plan).Risks);
        Assert.Equal(RiskKinds.StatefulReplacement, Assert.Single(PlanTestInput.Text(plan, classes).Risks).Kind);
    }

    [Fact]
    public void Deposed_object_delete_is_kept_with_its_key()
    {
        // Documented format: a deposed object (left by a failed create_before_destroy) has "deposed": "<key>".
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_instance.web", "aws_instance", """["delete"]""", before: "{}", extra: ""","deposed":"00000001" """));

        var summary = PlanTestInput.Text(plan);

        Assert.Equal("00000001", Assert.Single(summary.Resources).Deposed);
        Assert.Equal(RiskKinds.Destroy, Assert.Single(summary.Risks).Kind);
    }

    [Fact]
    public void Forget_is_its_own_action_and_not_a_destroy()
    {
        // Documented format (Terraform 1.7+ removed block with destroy = false): change.actions ["forget"].
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_instance.old", "aws_instance", """["forget"]""", before: "{}", extra: ""","action_reason":"delete_because_no_resource_config" """));

        var summary = PlanTestInput.Text(plan);

        Assert.Equal(PlanAction.Forget, Assert.Single(summary.Resources).Action);
        Assert.Equal(1, summary.Counts.Forget);
        Assert.Empty(summary.Risks);
    }

    [Fact]
    public void Tag_only_update_is_marked_and_carries_no_risk()
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change(
            "aws_instance.web", "aws_instance", """["update"]""",
            before: """{"ami":"ami-1","tags":{"team":"a"},"tags_all":{"team":"a"}}""",
            after: """{"ami":"ami-1","tags":{"team":"b"},"tags_all":{"team":"b"}}"""));

        var resource = Assert.Single(PlanTestInput.Text(plan).Resources);

        Assert.True(resource.TagOnly);
        Assert.Equal(["tags.team", "tags_all.team"], resource.ChangedPaths);
    }

    [Fact]
    public void Update_touching_more_than_tags_is_not_tag_only()
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change(
            "aws_instance.web", "aws_instance", """["update"]""",
            before: """{"instance_type":"t3.micro","tags":{"team":"a"}}""",
            after: """{"instance_type":"m5.large","tags":{"team":"b"}}"""));

        Assert.False(Assert.Single(PlanTestInput.Text(plan).Resources).TagOnly);
    }

    [Theory]
    // Same attribute order on both sides (what Terraform writes): after is walked in step with before.
    [InlineData("""{"a":1,"b":2,"c":3}""", """{"a":1,"b":9,"c":3}""", "b")]
    // An attribute added in the middle, one removed, the orders parting: names are looked up.
    [InlineData("""{"a":1,"c":3,"d":4}""", """{"a":1,"b":2,"c":3}""", "b,d")]
    [InlineData("""{"c":3,"b":2,"a":1}""", """{"a":1,"b":5,"c":3,"e":6}""", "b,e")]
    // The same name spelled with an escape on one side is the same attribute.
    [InlineData("""{"a":1,"b":2}""", """{"a":1,"\u0062":3}""", "b")]
    [InlineData("""{"a":1,"b":2}""", """{"a":1,"b":2,"z":{"x":1}}""", "z")]
    public void Changed_paths_do_not_depend_on_attribute_order(string before, string after, string expected)
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_instance.web", "aws_instance", """["update"]""", before, after));

        var resource = Assert.Single(PlanTestInput.Text(plan).Resources);

        Assert.Equal(expected.Split(','), resource.ChangedPaths.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{"encrypted":false}""", "encrypted = false")]
    [InlineData("""{"encrypted":"false"}""", "encrypted = false")]
    [InlineData("""{"storageEncrypted":false}""", "storage_encrypted = false")]
    [InlineData("""{"size":8,"kms_encryption_enabled":false,"zone":"a"}""", "kms_encryption_enabled = false")]
    [InlineData("""{"encr\u0079pted":false}""", "encrypted = false")]
    public void A_new_resource_with_an_encryption_flag_off_is_found_in_either_spelling(string after, string detail)
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_ebs_volume.data", "aws_ebs_volume", """["create"]""", after: after));

        var risk = Assert.Single(PlanTestInput.Text(plan).Risks);

        Assert.Equal(RiskKinds.EncryptionDisabled, risk.Kind);
        Assert.StartsWith(detail, risk.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"encrypted":true,"encryption_enabled":"true"}""")]
    [InlineData("""{"unencrypted_note":false,"encrypted":null}""")]
    public void Encryption_flags_that_are_on_or_unset_are_not_findings(string after)
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_ebs_volume.data", "aws_ebs_volume", """["create"]""", after: after));

        Assert.Empty(PlanTestInput.Text(plan).Risks);
    }

    [Theory]
    // The policy is JSON inside a JSON string; escapes (\u002a is *) are undone before it is read.
    [InlineData("""{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:\u002a\",\"Resource\":\"*\"}]}""", "action s3:*")]
    [InlineData("""   """, null)]
    [InlineData("""not json""", null)]
    public void Policy_documents_in_strings_are_unescaped_before_they_are_read(string policy, string? grant)
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_iam_policy.p", "aws_iam_policy", """["create"]""", after: $$"""{"policy":"{{policy}}"}"""));

        var risks = PlanTestInput.Text(plan).Risks;

        if (grant is null)
        {
            Assert.Empty(risks);
        }
        else
        {
            Assert.Contains(grant, Assert.Single(risks).Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Database_update_turning_off_protection_backups_and_encryption()
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change(
            "aws_db_instance.main", "aws_db_instance", """["update"]""",
            before: """{"deletion_protection":true,"backup_retention_period":7,"storage_encrypted":true,"skip_final_snapshot":false}""",
            after: """{"deletion_protection":false,"backup_retention_period":0,"storage_encrypted":false,"skip_final_snapshot":true}"""));

        var kinds = PlanTestInput.Text(plan).Risks.Select(r => r.Kind).Order(StringComparer.Ordinal).ToList();

        Assert.Equal([RiskKinds.BackupDisabled, RiskKinds.DeletionProtectionRemoved, RiskKinds.EncryptionDisabled], kinds);
    }

    [Fact]
    public void Lowered_retention_is_backup_risk()
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change(
            "aws_db_instance.main", "aws_db_instance", """["update"]""",
            before: """{"backup_retention_period":14}""",
            after: """{"backup_retention_period":3}"""));

        var risk = Assert.Single(PlanTestInput.Text(plan).Risks);
        Assert.Equal(RiskKinds.BackupDisabled, risk.Kind);
        Assert.Contains("from 14 to 3", risk.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void S3_bucket_losing_inline_encryption_is_encryption_disabled()
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change(
            "aws_s3_bucket.data", "aws_s3_bucket", """["update"]""",
            before: """{"server_side_encryption_configuration":[{"rule":[{"apply_server_side_encryption_by_default":[{"sse_algorithm":"AES256"}]}]}]}""",
            after: """{"server_side_encryption_configuration":[]}"""));

        Assert.Equal(RiskKinds.EncryptionDisabled, Assert.Single(PlanTestInput.Text(plan).Risks).Kind);
    }

    [Fact]
    public void Iam_policy_update_flags_only_what_is_new()
    {
        var before = """{"policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}"}""";
        var same = PlanTestInput.Plan(PlanTestInput.Change("aws_iam_policy.p", "aws_iam_policy", """["update"]""", before: before, after: before.Replace("GetObject", "GetObject", StringComparison.Ordinal)));
        var wider = PlanTestInput.Plan(PlanTestInput.Change("aws_iam_policy.p", "aws_iam_policy", """["update"]""", before: before, after: before.Replace("s3:GetObject", "s3:*", StringComparison.Ordinal)));
        var denyOnly = PlanTestInput.Plan(PlanTestInput.Change("aws_iam_policy.p", "aws_iam_policy", """["update"]""", before: before, after: before.Replace("Allow", "Deny", StringComparison.Ordinal)));

        Assert.Empty(PlanTestInput.Text(same).Risks);
        var risk = Assert.Single(PlanTestInput.Text(wider).Risks);
        Assert.Contains("action s3:*", risk.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("GetObject", risk.Detail, StringComparison.Ordinal);
        Assert.Empty(PlanTestInput.Text(denyOnly).Risks);
    }

    [Fact]
    public void Trust_policy_gaining_a_principal_is_privilege_expansion()
    {
        var before = """{"assume_role_policy":"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"}}]}"}""";
        var after = before.Replace("{\\\"Service\\\":\\\"ec2.amazonaws.com\\\"}", "{\\\"Service\\\":\\\"ec2.amazonaws.com\\\",\\\"AWS\\\":\\\"arn:aws:iam::999999999999:root\\\"}", StringComparison.Ordinal);
        Assert.NotEqual(before, after);
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_iam_role.r", "aws_iam_role", """["update"]""", before: before, after: after));

        var risk = Assert.Single(PlanTestInput.Text(plan).Risks);
        Assert.Contains("principal AWS:arn:aws:iam::999999999999:root", risk.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Gcp_firewall_opened_to_the_internet()
    {
        // Documented google_compute_firewall attributes: direction, source_ranges, allow[].protocol/ports.
        var plan = PlanTestInput.Plan(PlanTestInput.Change(
            "google_compute_firewall.ssh", "google_compute_firewall", """["create"]""",
            after: """{"direction":"INGRESS","source_ranges":["0.0.0.0/0"],"allow":[{"protocol":"tcp","ports":["22"]}],"deny":[]}"""));

        var risk = Assert.Single(PlanTestInput.Text(plan).Risks);
        Assert.Equal(RiskKinds.PublicIngressAdded, risk.Kind);
        Assert.Contains("tcp:22 from 0.0.0.0/0", risk.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Azure_rule_allowing_internet_inbound_and_role_assignment()
    {
        var plan = PlanTestInput.Plan(
            PlanTestInput.Change(
                "azurerm_network_security_rule.rdp", "azurerm_network_security_rule", """["create"]""",
                after: """{"name":"rdp","direction":"Inbound","access":"Allow","source_address_prefix":"Internet","destination_port_range":"3389"}"""),
            PlanTestInput.Change(
                "azurerm_network_security_group.nsg", "azurerm_network_security_group", """["update"]""",
                before: """{"security_rule":[]}""",
                after: """{"security_rule":[{"name":"any","direction":"Inbound","access":"Allow","source_address_prefix":"*","destination_port_range":"*"}]}"""),
            PlanTestInput.Change(
                "azurerm_role_assignment.owner", "azurerm_role_assignment", """["create"]""",
                after: """{"role_definition_name":"Owner","principal_id":"00000000-0000-0000-0000-000000000001","scope":"/subscriptions/x"}"""));

        var risks = PlanTestInput.Text(plan).Risks.Select(r => (r.Kind, r.Address)).ToList();

        Assert.Equal(
            [
                (RiskKinds.PublicIngressAdded, "azurerm_network_security_rule.rdp"),
                (RiskKinds.PublicIngressAdded, "azurerm_network_security_group.nsg"),
                (RiskKinds.IamPrivilegeExpansion, "azurerm_role_assignment.owner"),
            ],
            risks);
    }

    [Fact]
    public void Unknown_policy_is_masked_in_the_detail()
    {
        var plan = PlanTestInput.Plan(PlanTestInput.Change("aws_iam_role_policy_attachment.a", "aws_iam_role_policy_attachment", """["create"]""", after: """{"role":"app"}""")
            .Replace("\"after_unknown\":{}", "\"after_unknown\":{\"policy_arn\":true}", StringComparison.Ordinal));

        var risk = Assert.Single(PlanTestInput.Text(plan).Risks);
        Assert.Equal("attaches (known after apply) to app", risk.Detail);
    }

    [Fact]
    public void Default_resource_classes_match_the_example_workspace()
    {
        var yaml = File.ReadAllText(Path.Combine(Airlock.Testing.RepoPaths.Shared, "examples", "airlock.yaml"));
        var document = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(yaml);
        var classes = (Dictionary<object, object>)document["resource_classes"];

        foreach (var (resourceClass, types) in classes)
        {
            foreach (var type in (List<object>)types)
            {
                Assert.Equal((string)resourceClass, ResourceClassMap.Default.ClassOf((string)type));
            }
        }
    }
}
