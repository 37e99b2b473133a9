import Foundation
import Logging
import Postgres
import Testing

@testable import Sync

@Suite("Sync engine against real databases")
struct SyncEngineTests {
    @Test("a full sync inserts and couples; a delta then writes only what changed; nothing echoes back", arguments: CRMService.allCases)
    func fullThenDelta(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping()
            try await f.erp.runScript(
                """
                INSERT INTO customer (no, name, city, credit_limit) VALUES
                    ('10000', 'The Cannon Group', '  London ', '1500.50'), ('20000', 'Selangorian Ltd.', 'Kuala Lumpur', NULL)
                """, name: "customers")
            let full = try await f.sync(.full)
            #expect(full[.toIntegration]?.inserted == 2)
            #expect(full[.toIntegration]?.coupled == 2)
            #expect(full[.fromIntegration]?.inserted == 0, "the accounts just written are not synced back")
            let accounts = try await f.accounts()
            #expect(accounts["10000"]?.city == "London", "the trim rule ran")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE credit_limit = 1500.50") == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings") == 2)

            let quiet = try await f.sync()
            #expect(quiet[.toIntegration] == SyncCounts() || quiet[.toIntegration]?.modified == 0)
            #expect(quiet[.fromIntegration]?.modified == 0 && quiet[.fromIntegration]?.inserted == 0)

            try await f.erp.runScript("UPDATE customer SET city = 'Oxford' WHERE no = '10000'", name: "edit")
            let delta = try await f.sync()
            #expect(delta[.toIntegration]?.modified == 1)
            #expect(delta[.fromIntegration]?.modified == 0, "no echo of the write")
            #expect(try await f.accounts()["10000"]?.city == "Oxford")

            try await f.crm.runScript("UPDATE account SET name = 'Cannon Group PLC' WHERE account_number = '10000'", name: "crm edit")
            let back = try await f.sync()
            #expect(back[.fromIntegration]?.modified == 1)
            #expect(try await f.erp.query("SELECT name FROM customer WHERE no = '10000'").single().decode(String.self, at: 0) == "Cannon Group PLC")
            let silent = try await f.sync()
            #expect(silent.values.allSatisfy { $0.modified == 0 && $0.inserted == 0 }, "a third sync finds nothing to do")
        }
    }

    @Test("a full sync in key-range chunks reads each record once and sets the watermark as a whole run would", arguments: CRMService.allCases)
    func chunkedFullSync(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO customer (no, name) SELECT n::text, 'Customer ' || n FROM generate_series(1, 50) n")
            let engine = SyncEngine(coordination: f.coordination, endpoints: f.endpoints, logger: Logger(label: "test"))
            let sharing = FullSyncSharing(chunkRows: 7, helpers: 0, job: nil)
            let full = try await engine.run(mapping: "CUSTOMER", kind: .full, sharing: sharing)
            #expect(full[.toIntegration]?.inserted == 50)
            let chunks = try await f.coordination.query(
                "SELECT count(*), sum(records)::int8, count(*) FILTER (WHERE state = 'done') FROM couplet.sync_chunks"
            ).single().decode((Int, Int, Int).self)
            #expect(chunks == (8, 50, 8), "7 boundaries in 50 keys cut 8 chunks (text keys in text order)")
            let newest = try await f.erp.query("SELECT max(modified_at) FROM customer").single().decode(Date.self, at: 0)
            let watermark = try await f.coordination.query("SELECT local_watermark FROM couplet.table_mappings").single().decode(Date?.self, at: 0)
            #expect(watermark.map { abs($0.timeIntervalSince(newest)) < 0.001 } == true, "the watermark reached the newest record")
            let again = try await engine.run(mapping: "CUSTOMER", kind: .full, sharing: sharing)
            #expect(again[.toIntegration]?.unchanged == 50)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 50)
        }
    }

    @Test("a row committed late by a transaction that started before the read is not missed")
    func lateCommit() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('1', 'early')", name: "early")
            try await f.sync()
            // A writer starts its transaction (its modified_at is that start) and commits only after the next sync read.
            let slow = try await PostgresConnection.connect(f.endpoints.configuration(of: "erp"))
            try await slow.runScript("BEGIN; INSERT INTO customer (no, name) VALUES ('2', 'slow writer')", name: "slow")
            try await Task.sleep(for: .milliseconds(50))
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('3', 'quick writer')", name: "quick")
            let during = try await f.sync()
            #expect(during[.toIntegration]?.inserted == 1, "only the committed row is visible")
            try await slow.runScript("COMMIT", name: "commit")
            let after = try await f.sync()
            #expect(after[.toIntegration]?.inserted == 1, "the late row is picked up")
            #expect(Set(try await f.accounts().keys) == ["1", "2", "3"])
        }
    }

    @Test("a value that does not fit the target fails alone; the rest of the batch is synced and logged")
    func badValueFailsAlone() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.erp.runScript(
                "INSERT INTO customer (no, name, credit_limit) VALUES ('1', 'a', '10'), ('2', 'b', 'lots'), ('3', 'c', '30')",
                name: "customers")
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.inserted == 2)
            #expect(counts[.toIntegration]?.failed == 1)
            #expect(Set(try await f.accounts().keys) == ["1", "3"])
            let message = try await f.coordination.query("SELECT local_id, record_message, detail, error_class FROM couplet.sync_errors").single()
                .decode((String, String, String, String).self)
            #expect(message.0 == "2")
            #expect(message.1.contains("Mapping CUSTOMER could not write customer 2") && message.1.contains("column credit_limit"))
            #expect(message.2 == "SQLSTATE 22P02: invalid input syntax for type numeric", "the server's text, without the value")
            #expect(message.3 == "write_refused:22P02:credit_limit")
            let again = try await f.sync(.full)
            #expect(again[.toIntegration]?.failed == 1, "a full run reads last run's failure once, in its scan")
            #expect(try await f.count(f.coordination, "SELECT occurrences FROM couplet.sync_errors WHERE last_run_id > first_run_id") == 2,
                    "one error for the record, seen by both runs")
            // Fixed at the source, the failed record is retried first and succeeds.
            try await f.erp.runScript("UPDATE customer SET credit_limit = '20' WHERE no = '2'", name: "fix")
            #expect(try await f.sync()[.toIntegration]?.inserted == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_failures") == 0)
        }
    }

    @Test("a record failing the same way twice is skipped until retried")
    func skipAfterTwoFailures() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.erp.runScript("INSERT INTO customer (no, name, credit_limit) VALUES ('1', 'a', 'lots')", name: "bad")
            #expect(try await f.sync(.full)[.toIntegration]?.failed == 1)
            #expect(try await f.sync()[.toIntegration]?.failed == 1, "retried first, failed the same way")
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_failures WHERE skipped") == 1)
            #expect(try await f.sync()[.toIntegration]?.failed == 0, "skipped now")
        }
    }

    @Test("both sides changed: the fail policy logs a conflict, get_from_integration lets the CRM win", arguments: CRMService.allCases)
    func conflicts(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping()
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('1', 'original')", name: "one")
            try await f.sync(.full)
            try await f.erp.runScript("UPDATE customer SET name = 'erp edit'", name: "erp edit")
            try await f.crm.runScript("UPDATE account SET name = 'crm edit'", name: "crm edit")
            let conflicted = try await f.sync()
            #expect(conflicted[.toIntegration]?.failed == 1)
            let message = try await f.coordination.query("SELECT message FROM couplet.sync_errors LIMIT 1").single().decode(String.self, at: 0)
            #expect(message.contains("both"), "\(message)")
            try await f.coordination.runScript(
                "UPDATE couplet.table_mappings SET update_conflict = 'get_from_integration'", name: "policy")
            try await f.sync()
            #expect(try await f.erp.query("SELECT name FROM customer").single().decode(String.self, at: 0) == "crm edit")
            #expect(try await f.accounts()["1"]?.name == "crm edit")
        }
    }

    @Test("a disabled mapping's runs synchronize nothing until it is enabled again", arguments: CRMService.allCases)
    func disabledMapping(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO customer (no, name) VALUES ('1', 'One')")
            try await f.coordination.query("UPDATE couplet.table_mappings SET enabled = false")
            #expect(try await f.sync(.full).isEmpty)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 0)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_runs") == 0)
            try await f.coordination.query("UPDATE couplet.table_mappings SET enabled = true")
            #expect(try await f.sync(.full)[.toIntegration]?.inserted == 1)
        }
    }

    @Test("a stored filter smuggling a second statement is refused when the mapping loads; nothing runs and nothing is dropped")
    func hostileFilter() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration", filter: "true; DROP TABLE customer")
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('1', 'a')", name: "one")
            await #expect {
                try await f.sync(.full)
            } throws: { error in
                (error as? SyncFailure)?.message.contains("';' ends a statement: a filter is one predicate, never a second statement (at character 5)") == true
            }
            #expect(try await f.count(f.erp, "SELECT count(*) FROM customer") == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_runs") == 0)
        }
    }

    @Test("a reference through another mapping's couplings: an uncoupled salesperson fails the customer with advice", arguments: CRMService.allCases)
    func uncoupledSalesperson(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addSalespersonLookup()
            try await f.erp.runScript(
                "INSERT INTO customer (no, name, salesperson_code) VALUES ('1', 'coupled', 'PS'), ('2', 'uncoupled', 'JR')", name: "two")
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.inserted == 1 && counts[.toIntegration]?.failed == 1)
            #expect(try await f.crm.query("SELECT owner_id FROM account").single().decode(String.self, at: 0) == "user-ps")
            let message = try await f.coordination.query("SELECT record_message FROM couplet.sync_errors").single().decode(String.self, at: 0)
            #expect(message.contains("\"JR\""), "\(message)")
            #expect(message.contains("SALESPEOPLE"), "\(message)")
            // Waiting for a coupling is not the record's fault: retried every run, never skipped …
            #expect(try await f.sync()[.toIntegration]?.failed == 1)
            #expect(try await f.sync()[.toIntegration]?.failed == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.sync_failures WHERE skipped") == 0)
            // … and synchronized once the salesperson is coupled.
            try await f.coordination.runScript(
                "INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES ('SALESPEOPLE', 'JR', 'user-jr')", name: "couple JR")
            #expect(try await f.sync()[.toIntegration]?.inserted == 1)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account WHERE owner_id = 'user-jr'") == 1)
        }
    }

    @Test("a lookup through the mapping's own couplings finds a record of the same batch: bill-to chains sync in one run")
    func selfReferenceInOneBatch() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.erp.runScript("ALTER TABLE customer ADD bill_to text", name: "bill-to")
            try await f.crm.runScript("ALTER TABLE account ADD parent_id text", name: "parent")
            try await f.coordination.runScript(
                """
                INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, to_integration_rule)
                VALUES ('CUSTOMER', 5, 'bill_to', 'parent_id', 'to_integration', 'lookup(CUSTOMER)');
                """, name: "bill-to field")
            // 3 pays for 2's bills, 2 for 1's; 4 and 5 for each other; all in one batch.
            try await f.erp.runScript(
                """
                INSERT INTO customer (no, name, bill_to) VALUES ('1', 'one', NULL), ('2', 'two', '1'), ('3', 'three', '2'),
                    ('4', 'four', '5'), ('5', 'five', '4')
                """, name: "chain")
            let counts = try await f.sync(.full)[.toIntegration]
            #expect(counts?.inserted == 3 && counts?.failed == 2, "the chain in one run; the circle cannot be: \(String(describing: counts))")
            let parents = try await f.crm.query(
                "SELECT a.account_number, p.account_number FROM account a JOIN account p ON p.id::text = a.parent_id ORDER BY 1"
            ).map { try $0.decode((String, String).self) }
            #expect(parents.map { "\($0.0)→\($0.1)" } == ["2→1", "3→2"])
        }
    }

    @Test("deleted records meet the deletion policy: fail, remove the coupling, or restore", arguments: CRMService.allCases)
    func deletions(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('1', 'a'), ('2', 'b')", name: "two")
            try await f.sync(.full)
            try await f.erp.runScript("DELETE FROM customer WHERE no = '1'", name: "delete source")
            let failing = try await f.sync(.full)
            #expect(failing[.toIntegration]?.failed == 1)
            let message = try await f.coordination.query("SELECT message FROM couplet.sync_errors").single().decode(String.self, at: 0)
            #expect(message.contains("deleted"), "\(message)")
            try await f.coordination.runScript("UPDATE couplet.table_mappings SET deletion_conflict = 'remove_coupling'", name: "policy")
            #expect(try await f.sync(.full)[.toIntegration]?.uncoupled == 1)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings") == 1)

            try await f.crm.runScript("DELETE FROM account WHERE account_number = '2'", name: "delete target")
            try await f.coordination.runScript("UPDATE couplet.table_mappings SET deletion_conflict = 'restore'", name: "restore")
            let restored = try await f.sync(.full)
            #expect(restored[.toIntegration]?.inserted == 1)
            #expect(Set(try await f.accounts().keys) == ["1", "2"], "account 2 restored; account 1 was only uncoupled, never deleted")
        }
    }

    @Test("match-based coupling: a unique match couples, ambiguous and taken ones fail with a reason, no match is left or created", arguments: CRMService.allCases)
    func matching(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.coordination.runScript(
                "UPDATE couplet.field_mappings SET match_priority = 1 WHERE mapping = 'CUSTOMER' AND local_field = 'name'", name: "match")
            try await f.erp.runScript(
                "INSERT INTO customer (no, name) VALUES ('1', 'The Cannon Group'), ('2', 'dup'), ('3', 'coupled'), ('4', 'Lonely'), ('5', 'Twin'), ('6', 'twin')",
                name: "customers")
            try await f.crm.runScript(
                """
                INSERT INTO account (id, name) VALUES ('00000000-0000-0000-0000-00000000000a', 'THE CANNON GROUP'),
                    ('00000000-0000-0000-0000-00000000000b', 'Dup'), ('00000000-0000-0000-0000-00000000000c', 'DUP'),
                    ('00000000-0000-0000-0000-00000000000d', 'Coupled'), ('00000000-0000-0000-0000-00000000000e', 'TWIN')
                """, name: "accounts")
            try await f.coordination.runScript(
                "INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES ('CUSTOMER', '99', '00000000-0000-0000-0000-00000000000d')",
                name: "taken")
            let engine = SyncEngine(coordination: f.coordination, endpoints: f.endpoints, logger: .init(label: "test"))
            let counts = try await engine.run(mapping: "CUSTOMER", kind: .match)[.toIntegration]
            #expect(counts?.coupled == 1 && counts?.failed == 4 && counts?.skipped == 1 && counts?.inserted == 0, "\(String(describing: counts))")
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings WHERE local_id = '1' AND integration_id = '00000000-0000-0000-0000-00000000000a'") == 1)
            let reasons = try await f.coordination.query("SELECT local_id, record_message FROM couplet.sync_errors ORDER BY local_id")
                .map { try $0.decode((String, String).self) }
            #expect(reasons.map(\.0) == ["2", "3", "5", "6"])
            #expect(reasons[0].1.contains("2"), "ambiguous: \(reasons[0].1)")
            #expect(reasons[1].1.contains("99"), "names the record it is coupled to: \(reasons[1].1)")
            #expect(reasons[2].1.contains("but 2 customer records have the same match-field values"), "duplicates on the ERP side: \(reasons[2].1)")
            #expect(try await f.accounts()["1"]?.name == "The Cannon Group", "the matched account took the customer's values")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 5)
            let created = try await engine.run(mapping: "CUSTOMER", kind: .match, createUnmatched: true)[.toIntegration]
            #expect(created?.inserted == 1, "Lonely is created")
        }
    }

    @Test("a full sync with match fields couples what both sides already hold instead of duplicating it; templates fill new records", arguments: CRMService.allCases)
    func fullSyncMatchesFirst(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.coordination.runScript(
                """
                UPDATE couplet.field_mappings SET match_priority = 1 WHERE mapping = 'CUSTOMER' AND local_field = 'no';
                UPDATE couplet.table_mappings SET integration_template = '{"city": "Unknown", "owner_id": "sales-team"}';
                """, name: "setup")
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('1', 'Adatum'), ('2', 'Trey Research')", name: "erp")
            try await f.crm.runScript("INSERT INTO account (account_number, name) VALUES ('1', 'Adatum Corp')", name: "crm")
            let counts = try await f.sync(.full)[.toIntegration]
            #expect(counts?.coupled == 2 && counts?.inserted == 1, "\(String(describing: counts))")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 2)
            #expect(try await f.accounts()["1"]?.name == "Adatum")
            let new = try await f.crm.query("SELECT city, owner_id FROM account WHERE account_number = '2'").single().decode((String, String).self)
            #expect(new == ("Unknown", "sales-team"))
        }
    }

    @Test("a records run synchronizes only the chosen records and their counterparts, the pass from their side first", arguments: CRMService.allCases)
    func chosenRecords(crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping()
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('1', 'a'), ('2', 'b'), ('3', 'c')", name: "three")
            let engine = SyncEngine(coordination: f.coordination, endpoints: f.endpoints, logger: .init(label: "test"))
            let counts = try await engine.run(
                mapping: "CUSTOMER", kind: .records, records: ChosenRecords(side: .local, ids: ["2", "9"]))
            #expect(counts[.toIntegration]?.inserted == 1)
            #expect(counts[.fromIntegration]?.unchanged == 1, "the new account, read back through its coupling: \(counts)")
            #expect(Set(try await f.accounts().keys) == ["2"])
            let passes = try await f.coordination.query("SELECT string_agg(direction, ',' ORDER BY id) FROM couplet.sync_runs")
                .single().decode(String.self, at: 0)
            #expect(passes == "to_integration,from_integration")
        }
    }
}
