/// The exchange rate the demo ERP gives a currency in the CRM, computed the way Business Central's
/// `CRM Synch. Helper`.`GetCRMLCYToFCYExchangeRate` computes the transaction currency's rate against
/// the CRM's base currency, and the view `currency_for_crm` that the CURRENCY mapping reads it from.
///
/// A Dataverse rate is the number of units of the transaction currency worth one unit of the base
/// currency (a base amount is the transaction amount divided by the rate). The ERP's local currency
/// is `general_ledger_setup.lcy_code`; the CRM's base currency, `crm_connection_setup.base_currency_code`,
/// is the ISO code of the CRM organization's base currency, copied when the connection is set up
/// (Business Central's `SetBaseCurrencyData`; Dataverse never changes an organization's base currency).
/// A rate row (`currency_exchange_rate`) says that `exchange_rate_amount` of the currency are worth
/// `relational_exch_rate_amount` of the local currency from `starting_date` on.
///
/// - the base currency itself: 1;
/// - base currency = local currency: the currency's rate row with the latest starting date, whatever
///   that date (`Currency Exchange Rate`.`GetCurrentCurrencyFactor`): exchange ÷ relational amount;
/// - another base currency: both currencies' rows in effect today (the latest starting date on or
///   before `current_date`, as `FindCurrency` on the work date), the currency's units per local unit
///   divided by the base currency's (the local currency is 1 per local unit).
///
/// The quotient is exact and rounded once to 10 decimals, halves away from zero: Business Central's
/// rounding precision for CRM exchange rates (`GetCRMExchangeRateRoundingPrecision`, `Round(…, '=')`)
/// and the precision of Dataverse's `exchangerate`. No rate row, or no setup row, gives NULL, which the
/// CRM's `exchangerate` (required, without a default, as in Dataverse) refuses: the currency's record
/// fails, as Business Central fails it when the rate is 0 (`CurrencyExchangeRateMissingErr`).
///
/// The view's `modified_at` is the latest of the currency's, its and the base currency's rate rows'
/// and the two setups' `modified_at`, and the starting date (midnight, in the session's time zone) of
/// the newest of those rate rows already in effect: a delta reads a currency again when its rate
/// changes, including the day a dated rate takes effect.
enum CRMExchangeRate {
    /// The function and the view, created after the tables.
    static let script = """

        CREATE OR REPLACE FUNCTION crm_exchange_rate(currency text) RETURNS numeric LANGUAGE plpgsql STABLE AS
            $$ DECLARE
                lcy text := (SELECT lcy_code FROM general_ledger_setup);
                base text := (SELECT base_currency_code FROM crm_connection_setup);
                numerator numeric;
                denominator numeric;
            BEGIN
                IF currency = base THEN RETURN 1; END IF;
                IF base = lcy THEN
                    SELECT exchange_rate_amount, relational_exch_rate_amount INTO numerator, denominator
                    FROM currency_exchange_rate WHERE currency_code = currency ORDER BY starting_date DESC LIMIT 1;
                ELSE
                    SELECT x.per_lcy_numerator * b.per_lcy_denominator, x.per_lcy_denominator * b.per_lcy_numerator
                    INTO numerator, denominator
                    FROM crm_rate_in_effect(currency, lcy) x, crm_rate_in_effect(base, lcy) b;
                END IF;
                RETURN div(2 * numerator * 10000000000 + denominator, 2 * denominator) * 0.0000000001;
            END $$;

        CREATE OR REPLACE FUNCTION crm_rate_in_effect(currency text, lcy text,
                OUT per_lcy_numerator numeric, OUT per_lcy_denominator numeric) LANGUAGE sql STABLE AS
            $$ SELECT 1, 1 WHERE currency = lcy
               UNION ALL
               (SELECT exchange_rate_amount, relational_exch_rate_amount FROM currency_exchange_rate
                WHERE currency_code = currency AND currency IS DISTINCT FROM lcy AND starting_date <= current_date
                ORDER BY starting_date DESC LIMIT 1) $$;

        CREATE VIEW currency_for_crm AS
            SELECT c.code, c.description, c.symbol, crm_exchange_rate(c.code) AS exchange_rate,
                   greatest(c.modified_at, s.modified_at, g.modified_at, rates.changed, rates.started::timestamptz) AS modified_at
            FROM currency c
            LEFT JOIN crm_connection_setup s ON true
            LEFT JOIN general_ledger_setup g ON true
            LEFT JOIN LATERAL (
                SELECT max(r.modified_at) AS changed, max(r.starting_date) FILTER (WHERE r.starting_date <= current_date) AS started
                FROM currency_exchange_rate r WHERE r.currency_code IN (c.code, s.base_currency_code)) rates ON true;
        """
}
