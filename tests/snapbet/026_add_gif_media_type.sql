-- Add 'gif' to media_type enum
ALTER TYPE media_type ADD VALUE 'gif'; 