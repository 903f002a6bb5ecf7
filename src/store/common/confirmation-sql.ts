/** SQL both adapters use for double opt-in: the same text in either dialect, but for the conditions passed in. */

/**
 * Cancels the `due` confirmation requests whose recipient is no longer pending on the list's
 * e-mail channel, saying why in last_error; returns each one's process_id.
 */
export const cancelNoLongerPendingSql = (due: string): string => `
  UPDATE confirmation_request SET status = 'cancelled', next_attempt_at = NULL, last_error = CASE
      (SELECT s.email_status FROM subscription s WHERE s.list_id = confirmation_request.list_id
        AND s.recipient_id = confirmation_request.recipient_id)
      WHEN 'unsubscribed' THEN 'not sent: the recipient unsubscribed from the list'
      WHEN 'subscribed' THEN 'not sent: the recipient is already subscribed'
      ELSE 'not sent: the recipient is no longer in the list' END
  WHERE ${due} AND NOT EXISTS (SELECT 1 FROM subscription s WHERE s.list_id = confirmation_request.list_id
    AND s.recipient_id = confirmation_request.recipient_id AND s.email_status = 'pending')
  RETURNING process_id`;
